namespace Streams.Hosting;

/// <summary>A broker node to connect to (bindable: <c>RabbitStreams:Endpoints:0:Host</c>, <c>RabbitStreams:Endpoints:0:Port</c>).</summary>
public sealed class RabbitStreamsEndpoint
{
    /// <summary>Creates an endpoint with no host (set <see cref="Host"/>).</summary>
    public RabbitStreamsEndpoint()
    {
    }

    /// <summary>Creates an endpoint.</summary>
    /// <param name="host">The host name or IP address.</param>
    /// <param name="port">The stream port (5552 by default).</param>
    public RabbitStreamsEndpoint(string host, int port = 5552)
    {
        Host = host;
        Port = port;
    }

    /// <summary>The host name or IP address.</summary>
    public string? Host { get; set; }

    /// <summary>The stream protocol port, 1-65535 (5552 by default).</summary>
    public int Port { get; set; } = 5552;

    /// <inheritdoc />
    public override string ToString() => $"{Host}:{Port}";
}
