namespace Streams.Hosting;

/// <summary>A consumed message could not be decoded or deserialized; handled by the consumer's failure policy without retries.</summary>
public sealed class StreamMessageFormatException : Exception
{
    /// <summary>Creates an exception.</summary>
    public StreamMessageFormatException()
    {
    }

    /// <summary>Creates an exception.</summary>
    /// <param name="message">The message.</param>
    public StreamMessageFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The decoder's or serializer's exception.</param>
    public StreamMessageFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
