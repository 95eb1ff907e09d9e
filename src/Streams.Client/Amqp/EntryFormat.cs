namespace Streams.Client;

/// <summary>
/// How a stream entry is stored: as an AMQP 1.0 message (what this client, the Java and .NET clients and the
/// broker's AMQP 0.9.1 and 1.0 gateways write) or as raw bytes with no AMQP framing (what a raw producer writes,
/// e.g. <c>Producer.SendAsync(ReadOnlyMemory&lt;byte&gt;)</c> with bytes of your own, or the Python client rstream's
/// binary codec when it sends <c>bytes</c>). See <see cref="Message.DetectFormat"/> for the rule that tells them apart.
/// </summary>
public enum EntryFormat
{
    /// <summary>
    /// An AMQP 1.0 message: the entry starts with a message section descriptor. Decoding it either yields its sections
    /// or fails with <see cref="AmqpDecodeException"/> (corrupt or truncated AMQP).
    /// </summary>
    Amqp = 0,

    /// <summary>
    /// Raw bytes: the entry does not start with an AMQP 1.0 message section descriptor (an empty entry included).
    /// Decoded leniently, its whole content is the message's <see cref="Message.Body"/> (one data section) and it has
    /// no header, properties or application properties.
    /// </summary>
    Raw = 1,
}
