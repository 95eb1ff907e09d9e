namespace Streams.Client;

/// <summary>
/// Thrown when bytes read from a stream are not a valid AMQP 1.0 message (truncated data, an unknown
/// constructor or section, a size that overflows its buffer, nesting that is too deep, invalid UTF-8, ...).
/// Lenient decoding (<see cref="Delivery.DecodeMessage"/>, <see cref="Message.DecodeEntry"/>) throws it only for an
/// entry that starts like AMQP 1.0 (<see cref="Message.DetectFormat"/>) but does not decode: corrupt AMQP, not raw bytes.
/// </summary>
public sealed class AmqpDecodeException : StreamClientException
{
    /// <summary>Creates an exception with no message.</summary>
    public AmqpDecodeException()
    {
        Position = -1;
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public AmqpDecodeException(string message)
        : base(message)
    {
        Position = -1;
    }

    /// <summary>Creates an exception with a message and the exception that caused it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public AmqpDecodeException(string message, Exception innerException)
        : base(message, innerException)
    {
        Position = -1;
    }

    /// <summary>Creates an exception for a failure at a byte offset of the encoded message.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="position">The byte offset, from the start of the encoded message, where decoding failed.</param>
    public AmqpDecodeException(string message, int position)
        : base($"{message} (at byte {position})")
    {
        Position = position;
    }

    /// <summary>The byte offset, from the start of the encoded message, where decoding failed; -1 when unknown.</summary>
    public int Position { get; }
}
