using System.Diagnostics.CodeAnalysis;

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

    /// <summary>
    /// The entry bytes as stored: normally an AMQP 1.0 message, or raw bytes written by a raw producer
    /// (<see cref="Format"/>); see the lifetime note on <see cref="Delivery"/>.
    /// </summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>
    /// How the entry is stored, by the rule of <see cref="Message.DetectFormat"/>: <see cref="EntryFormat.Amqp"/> when
    /// it starts with an AMQP 1.0 message section descriptor, else <see cref="EntryFormat.Raw"/> (e.g. the bytes the
    /// Python client rstream sends with its binary codec). Looks at the first bytes only; nothing is decoded.
    /// </summary>
    public EntryFormat Format => Message.DetectFormat(Body.Span);

    /// <summary>
    /// Decodes <see cref="Body"/> into a detached copy, leniently: an AMQP 1.0 entry yields its sections; an entry
    /// that is not AMQP 1.0 (<see cref="Format"/> is <see cref="EntryFormat.Raw"/>, see <see cref="Message.DetectFormat"/>
    /// for the rule) yields a message whose <see cref="Message.Body"/> is a copy of the entry's bytes, with no
    /// properties and <see cref="Message.Format"/> <see cref="EntryFormat.Raw"/>. So a raw "Hello, World!" reads back as
    /// the body "Hello, World!", whoever wrote it.
    /// </summary>
    /// <exception cref="AmqpDecodeException">
    /// The entry starts like AMQP 1.0 (a section descriptor) but is not a valid AMQP 1.0 message: corrupt or truncated
    /// AMQP is never passed off as raw bytes. Use <see cref="TryDecodeMessage"/> to avoid the exception.
    /// </exception>
    public Message DecodeMessage() => Message.DecodeEntry(Body.ToArray());

    /// <summary>
    /// <see cref="DecodeMessage"/> without the exception: true with the message for an AMQP 1.0 entry and for a raw one
    /// (its bytes as the body); false, with a null message, only when the entry starts like AMQP 1.0 but does not decode
    /// (the stored bytes are still in <see cref="Body"/>).
    /// </summary>
    /// <param name="message">The decoded, detached message when true; null otherwise.</param>
    public bool TryDecodeMessage([NotNullWhen(true)] out Message? message) => Message.TryDecodeEntry(Body.ToArray(), out message);

    /// <summary>Stores this message's offset for the consumer's <see cref="ConsumerOptions.Name"/>.</summary>
    public ValueTask StoreOffsetAsync() => _consumer.StoreOffsetAsync(Offset);
}
