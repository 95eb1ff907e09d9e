using Streams.Client.Amqp;

namespace Streams.Client;

/// <summary>
/// One message read from a stream. <see cref="Body"/> points into the connection's receive buffer: it is valid until
/// the handler's task completes (push API) or until the next <c>MoveNextAsync</c> (<see cref="Consumer.ReadAllAsync"/>).
/// Copy it (or call <see cref="DecodeMessage"/>) to keep it longer.
/// </summary>
public readonly struct Delivery
{
    private readonly Consumer _consumer;
    private readonly long _timestamp;

    internal Delivery(Consumer consumer, ulong offset, ulong chunkId, long timestamp, ReadOnlyMemory<byte> body)
    {
        _consumer = consumer;
        Offset = offset;
        ChunkId = chunkId;
        _timestamp = timestamp;
        Body = body;
    }

    /// <summary>The message's offset in the stream.</summary>
    public ulong Offset { get; }

    /// <summary>The id (first offset) of the chunk holding the message.</summary>
    public ulong ChunkId { get; }

    /// <summary>When the broker wrote the message's chunk.</summary>
    public DateTimeOffset Timestamp => DateTimeOffset.FromUnixTimeMilliseconds(_timestamp);

    /// <summary>The stream the message was read from.</summary>
    public string Stream => _consumer.Stream;

    /// <summary>The consumer that read the message.</summary>
    public Consumer Consumer => _consumer;

    /// <summary>The message bytes as stored (normally an AMQP 1.0 message); see the lifetime note on <see cref="Delivery"/>.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>Decodes <see cref="Body"/> as an AMQP 1.0 message into a detached copy.</summary>
    /// <exception cref="AmqpDecodeException">The bytes are not an AMQP 1.0 message.</exception>
    public Message DecodeMessage() => AmqpMessageCodec.DecodeCopy(Body.Span);

    /// <summary>Stores this message's offset for the consumer's <see cref="ConsumerOptions.Name"/>.</summary>
    public ValueTask StoreOffsetAsync() => _consumer.StoreOffsetAsync(Offset);
}
