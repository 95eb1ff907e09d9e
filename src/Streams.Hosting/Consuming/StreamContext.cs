using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Streams.Client;

namespace Streams.Hosting;

/// <summary>
/// Where a handled message comes from. Constructible for handler unit tests (set the properties); the dispatcher
/// creates one per invocation and derives <see cref="Headers"/>, <see cref="MessageId"/>, <see cref="CorrelationId"/>
/// and <see cref="ContentType"/> from <see cref="RawMessage"/> when first read.
/// </summary>
public sealed class StreamContext
{
    private static readonly IReadOnlyDictionary<string, object?> NoHeaders = new Dictionary<string, object?>();

    private Source _source;
    private Details? _details;

    /// <summary>The message (<see cref="Client.Message"/>), or a body alone (<c>byte[]</c>) whose message is built when <see cref="RawMessage"/> is read.</summary>
    private object? _raw;

    /// <summary>Creates an empty context (for handler unit tests); set the properties with an object initializer.</summary>
    public StreamContext()
    {
        // Not a field initializer: the dispatcher's constructor sets its own source (one store less per message).
        _source = Source.Empty;
    }

#pragma warning disable CS8618 // Stream reads _source, which is set here.
    [SetsRequiredMembers]
    internal StreamContext(Source source, ulong offset, DateTimeOffset timestamp, int attempt, object raw)
    {
        _source = source;
        Offset = offset;
        Timestamp = timestamp;
        Attempt = attempt;
        _raw = raw;
    }
#pragma warning restore CS8618

    /// <summary>The stream consumed (for a super stream: the super stream's name).</summary>
    public required string Stream
    {
        get => _source.Stream;
        init => _source = _source with { Stream = value };
    }

    /// <summary>The partition stream the message was read from (super streams only; null otherwise).</summary>
    public string? Partition
    {
        get => _source.Partition;
        init => _source = _source with { Partition = value };
    }

    /// <summary>The message's offset in its stream (or partition).</summary>
    public required ulong Offset { get; init; }

    /// <summary>When the broker wrote the message's chunk.</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>The message's application properties (headers); empty when none.</summary>
    public IReadOnlyDictionary<string, object?> Headers
    {
        get => GetDetails().Headers!;
        init => Explicit().Headers = value ?? NoHeaders;
    }

    /// <summary>The AMQP message id as text (null when none).</summary>
    public string? MessageId
    {
        get => GetDetails().MessageId;
        init => Explicit().MessageId = value;
    }

    /// <summary>The AMQP correlation id as text (null when none).</summary>
    public string? CorrelationId
    {
        get => GetDetails().CorrelationId;
        init => Explicit().CorrelationId = value;
    }

    /// <summary>The AMQP content type (null when none).</summary>
    public string? ContentType
    {
        get => GetDetails().ContentType;
        init => Explicit().ContentType = value;
    }

    /// <summary>The consumer name (offset-tracking reference), null for an anonymous consumer.</summary>
    public string? ConsumerName
    {
        get => _source.ConsumerName;
        init => _source = _source with { ConsumerName = value };
    }

    /// <summary>1 for the first invocation with this message, 2 for the first retry, and so on.</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>
    /// The AMQP message (body, properties, annotations). For an entry that is a body alone (one data section and nothing
    /// else) the dispatcher builds it on first read. For an entry that is not AMQP 1.0 (a raw producer's, e.g. the
    /// Python client rstream's binary codec; the rule is <see cref="Message.DetectFormat"/>) it is the client's lenient
    /// decoding: the entry's bytes as the body, no headers or ids, and <see cref="Message.Format"/>
    /// <see cref="EntryFormat.Raw"/> (<see cref="EntryFormat.Amqp"/> for every other message).
    /// </summary>
    public Message? RawMessage
    {
        get => _raw switch
        {
            Message message => message,
            byte[] body => BuildMessage(body),
            _ => null,
        };
        init => _raw = value;
    }

    /// <summary>The application properties, without building a message for a body alone (it has none).</summary>
    internal IDictionary<string, object?>? RawApplicationProperties => (_raw as Message)?.ApplicationProperties;

    /// <summary>The stream or partition the message was read from (<see cref="Partition"/> when set, else <see cref="Stream"/>).</summary>
    public string SourceStream => Partition ?? Stream;

    /// <inheritdoc />
    public override string ToString() => $"{SourceStream}@{Offset} (consumer {ConsumerName ?? "(anonymous)"}, attempt {Attempt})";

    /// <summary>The AMQP id types (string, ulong, Guid, binary) as text.</summary>
    internal static string? IdToString(object? id) => id switch
    {
        null => null,
        string s => s,
        byte[] bytes => Convert.ToHexString(bytes),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => id.ToString(),
    };

    private Message BuildMessage(byte[] body)
    {
        var message = new Message(body);
        return Interlocked.CompareExchange(ref _raw, message, body) as Message ?? message;
    }

    /// <summary>Values set explicitly (unit tests) replace all derived ones.</summary>
    private Details Explicit() => _details ??= new Details { Headers = NoHeaders };

    /// <summary>The header and property values, derived from <see cref="RawMessage"/> once (unless set explicitly).</summary>
    private Details GetDetails()
    {
        if (_details is { } details)
        {
            return details;
        }

        // A body alone has no properties: no message is built for them.
        var raw = _raw as Message;
        var properties = raw?.Properties;
        details = new Details
        {
            Headers = raw?.ApplicationProperties switch
            {
                null => NoHeaders,
                IReadOnlyDictionary<string, object?> readOnly => readOnly,
                var other => new Dictionary<string, object?>(other),
            },
            MessageId = IdToString(properties?.MessageId),
            CorrelationId = IdToString(properties?.CorrelationId),
            ContentType = properties?.ContentType,
        };
        return Interlocked.CompareExchange(ref _details, details, null) ?? details;
    }

    /// <summary>What one consumer's contexts share (one instance per consumer, not per message).</summary>
    internal sealed record Source(string Stream, string? Partition, string? ConsumerName)
    {
        public static readonly Source Empty = new(string.Empty, null, null);
    }

    private sealed class Details
    {
        public IReadOnlyDictionary<string, object?>? Headers { get; set; }

        public string? MessageId { get; set; }

        public string? CorrelationId { get; set; }

        public string? ContentType { get; set; }
    }
}
