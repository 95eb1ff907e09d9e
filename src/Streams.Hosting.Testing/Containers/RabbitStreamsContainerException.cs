namespace Streams.Hosting.Testing.Containers;

/// <summary>
/// A <see cref="RabbitStreamsContainer"/> could not be started: no Docker engine, an image that cannot be had, or a
/// broker that did not answer a stream-protocol handshake in time. The message says how to get a broker.
/// </summary>
public sealed class RabbitStreamsContainerException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RabbitStreamsContainerException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public RabbitStreamsContainerException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public RabbitStreamsContainerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
