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

/// <summary>
/// The connection to the stream's leader was lost after the message was sent and before the broker confirmed it: it may
/// or may not be stored. Without <see cref="RabbitStreamsPublishingOptions.DeduplicationProducerName"/> the publisher
/// cannot tell, so the caller decides: publish it again if a duplicate is acceptable (or the consumer is idempotent),
/// else record it for reconciliation. With the name configured (the recommended production setting) the publisher
/// re-sends unconfirmed messages itself after recovery and the broker drops duplicates, so this is not thrown.
/// </summary>
public sealed class StreamPublishOutcomeUnknownException : StreamPublishException
{
    /// <summary>Creates an exception.</summary>
    public StreamPublishOutcomeUnknownException()
    {
    }

    /// <summary>Creates an exception.</summary>
    /// <param name="message">The message.</param>
    public StreamPublishOutcomeUnknownException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public StreamPublishOutcomeUnknownException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    private StreamPublishOutcomeUnknownException(string stream, string message, Exception? innerException)
        : base(stream, message, innerException)
    {
    }

    /// <summary>The exception for a message published to <paramref name="stream"/> whose confirm was lost.</summary>
    internal static StreamPublishOutcomeUnknownException ConfirmLost(string stream, Exception? innerException) => new(
        stream,
        $"The connection to stream '{stream}' was lost before the broker confirmed this message: it may or may not be stored. " +
        "Publish it again if a duplicate is acceptable, or set RabbitStreams:Publishing:DeduplicationProducerName (unique per running " +
        "instance) so that the publisher re-sends unconfirmed messages itself after recovery and the broker drops duplicates.",
        innerException);
}
