using System.Globalization;
using System.Text;
using System.Text.Json;
using Streams.Client;

namespace Streams.Cli.Output;

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
