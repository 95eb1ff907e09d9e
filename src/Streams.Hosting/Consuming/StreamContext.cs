using Streams.Client;

namespace Streams.Hosting;

/// <summary>Where a handled message comes from. Constructible for handler unit tests.</summary>
public sealed class StreamContext
{
    private static readonly IReadOnlyDictionary<string, object?> NoHeaders = new Dictionary<string, object?>();

    /// <summary>The stream consumed (for a super stream: the super stream's name).</summary>
    public required string Stream { get; init; }

    /// <summary>The partition stream the message was read from (super streams only; null otherwise).</summary>
    public string? Partition { get; init; }

    /// <summary>The message's offset in its stream (or partition).</summary>
    public required ulong Offset { get; init; }

    /// <summary>When the broker wrote the message's chunk.</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>The message's application properties (headers); empty when none.</summary>
    public IReadOnlyDictionary<string, object?> Headers { get; init; } = NoHeaders;

    /// <summary>The AMQP message id as text (null when none).</summary>
    public string? MessageId { get; init; }

    /// <summary>The AMQP correlation id as text (null when none).</summary>
    public string? CorrelationId { get; init; }

    /// <summary>The AMQP content type (null when none).</summary>
    public string? ContentType { get; init; }

    /// <summary>The consumer name (offset-tracking reference), null for an anonymous consumer.</summary>
    public string? ConsumerName { get; init; }

    /// <summary>1 for the first invocation with this message, 2 for the first retry, and so on.</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>The decoded AMQP message (body, properties, annotations).</summary>
    public Message? RawMessage { get; init; }

    /// <summary>The stream or partition the message was read from (<see cref="Partition"/> when set, else <see cref="Stream"/>).</summary>
    public string SourceStream => Partition ?? Stream;

    /// <inheritdoc />
    public override string ToString() => $"{SourceStream}@{Offset} (consumer {ConsumerName ?? "(anonymous)"}, attempt {Attempt})";
}
