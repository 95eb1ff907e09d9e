namespace Streams.Client;

/// <summary>
/// The base type of every exception the Streams client throws for a protocol, broker or usage failure.
/// </summary>
public class StreamClientException : Exception
{
    /// <summary>Creates an exception with no message.</summary>
    public StreamClientException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public StreamClientException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the exception that caused it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public StreamClientException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
