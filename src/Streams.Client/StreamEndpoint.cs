namespace Streams.Client;

/// <summary>A broker node address (host and stream port).</summary>
public sealed record StreamEndpoint
{
    /// <summary>The default stream port (plain TCP).</summary>
    public const int DefaultPort = 5552;

    /// <summary>The conventional stream port of the TLS listener.</summary>
    public const int DefaultTlsPort = 5551;

    /// <summary>Creates an endpoint.</summary>
    /// <param name="host">Host name or IP address.</param>
    /// <param name="port">Stream port (1–65535).</param>
    public StreamEndpoint(string host, int port = DefaultPort)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        if (port is < 1 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(port), port, "The port must be between 1 and 65535.");
        }

        Host = host;
        Port = port;
    }

    /// <summary>Host name or IP address.</summary>
    public string Host { get; }

    /// <summary>Stream port.</summary>
    public int Port { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Host}:{Port}";
}
