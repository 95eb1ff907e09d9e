using System.Globalization;
using System.Text;
using System.Text.Json;
using Streams.Client;

namespace Streams.Cli.Commands;

/// <summary><c>streams tail</c>: prints the messages of a stream from a starting point.</summary>
internal static class TailCommand
{
    private static readonly string[] ValueOptions = [Connection.UriOption, "stream", "super-stream", "from", "count", "format", "name", "filter"];
    private static readonly string[] FlagOptions = ["single-active-consumer", "match-unfiltered"];

    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        var arguments = Arguments.Parse(args, ValueOptions, FlagOptions);
        var stream = arguments.Value("stream");
        var superStream = arguments.Value("super-stream");
        if ((stream is null) == (superStream is null))
        {
            throw new UsageException("give exactly one of --stream and --super-stream");
        }

        var offset = ParseFrom(arguments.Value("from") ?? "first");
        var count = arguments.Int64("count", long.MaxValue, min: 1);
        var json = (arguments.Value("format") ?? "text") switch
        {
            "text" => false,
            "json" => true,
            var other => throw new UsageException($"option --format: '{other}' is not text or json"),
        };
        var name = arguments.Value("name");
        var sac = arguments.Flag("single-active-consumer");
        if (sac && name is null)
        {
            throw new UsageException("--single-active-consumer needs --name GROUP");
        }

        var filters = arguments.Values("filter");
        var matchUnfiltered = arguments.Flag("match-unfiltered");
        if (matchUnfiltered && filters.Count == 0)
        {
            throw new UsageException("--match-unfiltered only applies with --filter");
        }

        if (filters.Count > 0 && superStream is not null)
        {
            throw new UsageException("--filter applies to --stream only");
        }

        await using var system = await Connection.ConnectAsync(arguments, cancellationToken).ConfigureAwait(false);
        var printed = 0L;
        if (superStream is not null)
        {
            await using var consumer = await system.CreateSuperStreamConsumerAsync(
                new SuperStreamConsumerOptions(superStream) { Offset = offset, Name = name, SingleActiveConsumer = sac }, cancellationToken).ConfigureAwait(false);
            await foreach (var delivery in consumer.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await output.WriteLineAsync(Format(json, delivery)).ConfigureAwait(false);
                if (++printed >= count)
                {
                    break;
                }
            }
        }
        else
        {
            var options = new ConsumerOptions(stream!) { Offset = offset, Name = name, SingleActiveConsumer = sac };
            if (filters.Count > 0)
            {
                // The broker filters per chunk (Bloom filter): false positives reach us and are dropped here by the
                // client's convention (StreamFilter), the one `streams publish --filter` and hosted publishers follow.
                options.FilterValues = [.. filters];
                options.MatchUnfiltered = matchUnfiltered;
                options.PostFilter = StreamFilter.CreatePostFilter(filters, matchUnfiltered);
            }

            await using var consumer = await system.CreateConsumerAsync(options, cancellationToken).ConfigureAwait(false);
            await foreach (var delivery in consumer.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await output.WriteLineAsync(Format(json, delivery)).ConfigureAwait(false);
                if (++printed >= count)
                {
                    break;
                }
            }
        }

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return 0;
    }

    private static string Format(bool json, Delivery delivery) => json
        ? DeliveryFormatter.Json(delivery.Offset, delivery.Timestamp, delivery.Body, delivery.Stream)
        : DeliveryFormatter.Text(delivery.Offset, delivery.Timestamp, delivery.Body);

    /// <summary>first | last | next | an offset | an ISO-8601 point in time.</summary>
    public static OffsetSpecification ParseFrom(string from) => from switch
    {
        "first" => OffsetSpecification.First,
        "last" => OffsetSpecification.Last,
        "next" => OffsetSpecification.Next,
        _ when ulong.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out var offset) => OffsetSpecification.Offset(offset),
        _ when DateTimeOffset.TryParse(from, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            => OffsetSpecification.Timestamp(time),
        _ => throw new UsageException($"option --from: '{from}' is not first, last, next, an offset or an ISO-8601 time"),
    };
}

/// <summary>Renders a delivered message as a line of text or of JSON.</summary>
internal static class DeliveryFormatter
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The <c>format</c> of an entry that starts like AMQP 1.0 but does not decode.</summary>
    public const string InvalidAmqp = "invalid-amqp";

    /// <summary>
    /// <c>offset TAB timestamp [TAB message-id=ID] [TAB invalid-amqp] TAB body</c>: the body as UTF-8 text, or
    /// <c>base64:…</c>; a raw entry's body is its bytes; a corrupt AMQP entry shows its bytes after the marker.
    /// </summary>
    public static string Text(ulong offset, DateTimeOffset timestamp, ReadOnlyMemory<byte> entry)
    {
        var (message, body, format) = Decode(entry);
        var text = TryUtf8(body.Span) ?? "base64:" + Convert.ToBase64String(body.Span);
        var id = message?.Properties?.MessageId is { } messageId ? $"\tmessage-id={messageId}" : string.Empty;
        var invalid = format == InvalidAmqp ? "\t" + InvalidAmqp : string.Empty;
        return string.Create(CultureInfo.InvariantCulture, $"{offset}\t{timestamp:O}{id}{invalid}\t{text}");
    }

    /// <summary>One JSON object: stream (super streams), offset, timestamp, <c>format</c> (amqp, raw or invalid-amqp), body or bodyBase64, properties, applicationProperties.</summary>
    public static string Json(ulong offset, DateTimeOffset timestamp, ReadOnlyMemory<byte> entry, string? stream = null)
    {
        var (message, body, format) = Decode(entry);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            if (stream is not null)
            {
                writer.WriteString("stream", stream);
            }

            writer.WriteNumber("offset", offset);
            writer.WriteString("timestamp", timestamp);
            writer.WriteString("format", format);
            if (TryUtf8(body.Span) is { } text)
            {
                writer.WriteString("body", text);
            }
            else
            {
                writer.WriteBase64String("bodyBase64", body.Span);
            }

            writer.WriteStartObject("properties");
            if (message?.Properties is { } p)
            {
                WriteIfSet(writer, "messageId", p.MessageId);
                WriteIfSet(writer, "userId", p.UserId);
                WriteIfSet(writer, "to", p.To);
                WriteIfSet(writer, "subject", p.Subject);
                WriteIfSet(writer, "replyTo", p.ReplyTo);
                WriteIfSet(writer, "correlationId", p.CorrelationId);
                WriteIfSet(writer, "contentType", p.ContentType);
                WriteIfSet(writer, "contentEncoding", p.ContentEncoding);
                WriteIfSet(writer, "absoluteExpiryTime", p.AbsoluteExpiryTime);
                WriteIfSet(writer, "creationTime", p.CreationTime);
                WriteIfSet(writer, "groupId", p.GroupId);
                WriteIfSet(writer, "groupSequence", p.GroupSequence);
                WriteIfSet(writer, "replyToGroupId", p.ReplyToGroupId);
            }

            writer.WriteEndObject();
            writer.WriteStartObject("applicationProperties");
            if (message?.ApplicationProperties is { } properties)
            {
                foreach (var (key, value) in properties)
                {
                    writer.WritePropertyName(key);
                    WriteValue(writer, value);
                }
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>
    /// The client's lenient rule (<see cref="Message.TryDecodeEntry"/>): an AMQP 1.0 entry gives its message and data
    /// body; a raw entry (not AMQP 1.0, <see cref="Message.DetectFormat"/>) its bytes; an entry that starts like AMQP
    /// but does not decode its bytes too, marked <c>invalid-amqp</c> rather than passed off as raw.
    /// </summary>
    internal static (Message? Message, ReadOnlyMemory<byte> Body, string Format) Decode(ReadOnlyMemory<byte> entry)
    {
        if (!Message.TryDecodeEntry(entry, out var message))
        {
            return (null, entry, InvalidAmqp);
        }

        return message.Format == EntryFormat.Raw ? (null, entry, "raw") : (message, message.Body, "amqp");
    }

    private static string? TryUtf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static void WriteIfSet(Utf8JsonWriter writer, string name, object? value)
    {
        if (value is null)
        {
            return;
        }

        writer.WritePropertyName(name);
        WriteValue(writer, value);
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null: writer.WriteNullValue(); break;
            case bool b: writer.WriteBooleanValue(b); break;
            case string s: writer.WriteStringValue(s); break;
            case byte or sbyte or short or ushort or int: writer.WriteNumberValue(Convert.ToInt32(value, CultureInfo.InvariantCulture)); break;
            case uint u: writer.WriteNumberValue(u); break;
            case long l: writer.WriteNumberValue(l); break;
            case ulong ul: writer.WriteNumberValue(ul); break;
            case float f: writer.WriteNumberValue(f); break;
            case double d: writer.WriteNumberValue(d); break;
            case decimal m: writer.WriteNumberValue(m); break;
            case DateTimeOffset t: writer.WriteStringValue(t); break;
            case DateTime t: writer.WriteStringValue(t); break;
            case Guid g: writer.WriteStringValue(g); break;
            case byte[] bytes: writer.WriteBase64StringValue(bytes); break;
            case ReadOnlyMemory<byte> memory: writer.WriteBase64StringValue(memory.Span); break;
            default: writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture)); break;
        }
    }
}
