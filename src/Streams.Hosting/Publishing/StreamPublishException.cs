namespace Streams.Hosting;

/// <summary>A message could not be published (rejected by the broker, missing stream, producer failure).</summary>
public class StreamPublishException : Exception
{
    /// <summary>Creates an exception.</summary>
    public StreamPublishException()
    {
    }

    /// <summary>Creates an exception.</summary>
    /// <param name="message">The message.</param>
    public StreamPublishException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The client's exception.</param>
    public StreamPublishException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for a stream.</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The client's exception.</param>
    public StreamPublishException(string stream, string message, Exception? innerException)
        : base(message, innerException)
    {
        Stream = stream;
    }

    /// <summary>The stream published to.</summary>
    public string? Stream { get; }
}

/// <summary>The broker did not confirm a message within <see cref="RabbitStreamsPublishingOptions.Timeout"/> (it may still be stored).</summary>
public sealed class StreamPublishTimeoutException : StreamPublishException
{
    /// <summary>Creates an exception.</summary>
    public StreamPublishTimeoutException()
    {
    }

    /// <summary>Creates an exception.</summary>
    /// <param name="message">The message.</param>
    public StreamPublishTimeoutException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public StreamPublishTimeoutException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for a stream.</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="timeout">The timeout that elapsed.</param>
    /// <param name="innerException">The cause, if any.</param>
    public StreamPublishTimeoutException(string stream, TimeSpan timeout, Exception? innerException)
        : base(stream, $"Publishing to stream '{stream}' was not confirmed within {timeout} (the message may still have been stored).", innerException)
    {
        Timeout = timeout;
    }

    /// <summary>The timeout that elapsed.</summary>
    public TimeSpan Timeout { get; }
}
