namespace Streams.Hosting;

/// <summary>
/// A consumed message has a content type that no registered <see cref="IStreamSerializer"/> reads. This is a missing
/// registration, not a bad message: the consumer stops (state Faulted, health Unhealthy) without dead-lettering or
/// skipping the message and without storing its offset; register a serializer for the content type and restart.
/// </summary>
public sealed class StreamSerializerNotFoundException : Exception
{
    /// <summary>Creates an exception.</summary>
    public StreamSerializerNotFoundException()
    {
    }

    /// <summary>Creates an exception.</summary>
    /// <param name="message">The message.</param>
    public StreamSerializerNotFoundException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public StreamSerializerNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The message's content type.</summary>
    public string? ContentType { get; init; }
}
