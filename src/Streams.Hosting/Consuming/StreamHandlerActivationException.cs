namespace Streams.Hosting;

/// <summary>
/// A handler could not be activated (a constructor dependency failed to resolve or its constructor threw). This is an
/// infrastructure error, not a message error: the consumer stops (state Faulted, health Unhealthy) without retrying,
/// dead-lettering or skipping the message and without storing its offset, so that it is handled after the fix.
/// </summary>
public sealed class StreamHandlerActivationException : Exception
{
    /// <summary>Creates an exception.</summary>
    public StreamHandlerActivationException()
    {
    }

    /// <summary>Creates an exception.</summary>
    /// <param name="message">The message.</param>
    public StreamHandlerActivationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The container's or the constructor's exception.</param>
    public StreamHandlerActivationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
