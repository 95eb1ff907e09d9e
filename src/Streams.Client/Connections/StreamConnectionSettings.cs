namespace Streams.Client.Connections;

/// <summary>Everything a <see cref="StreamConnection"/> needs to connect and authenticate.</summary>
internal sealed class StreamConnectionSettings
{
    /// <summary>Default frame max requested (1 MiB, the broker default).</summary>
    public const uint DefaultFrameMax = 1_048_576;

    /// <summary>Default heartbeat requested: 10 s, so that twice it detects a silent peer within the 30 s users expect.</summary>
    public static readonly TimeSpan DefaultHeartbeat = TimeSpan.FromSeconds(10);

    public string Host { get; init; } = "localhost";

    public int Port { get; init; } = 5552;

    public string UserName { get; init; } = "guest";

    public string Password { get; init; } = "guest";

    /// <summary>Where the credentials come from; null = always <see cref="UserName"/> and <see cref="Password"/>.</summary>
    public IStreamCredentialsProvider? CredentialsProvider { get; init; }

    public string VirtualHost { get; init; } = "/";

    /// <summary>Shown in the management UI (peer property <c>connection_name</c>).</summary>
    public string? ConnectionName { get; init; }

    /// <summary>Requested frame max in bytes; 0 = no limit from the client side.</summary>
    public uint RequestedFrameMax { get; init; } = DefaultFrameMax;

    /// <summary>Requested heartbeat; <see cref="TimeSpan.Zero"/> = accept the broker's value (Tune rule: 0 on one side → the other side's value, else the minimum). Whole seconds on the wire.</summary>
    public TimeSpan RequestedHeartbeat { get; init; } = DefaultHeartbeat;

    /// <summary>No inbound byte for this long = dead peer; null = twice the negotiated heartbeat.</summary>
    public TimeSpan? DeadPeerTimeout { get; init; }

    /// <summary>Time allowed for TCP connect + handshake steps (the broker delays auth failures by ~3 s).</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Time allowed for a response to a request.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>TLS settings; null or not <see cref="StreamTlsOptions.Enabled"/> = plain TCP.</summary>
    public StreamTlsOptions? Tls { get; init; }

    /// <summary>The SASL mechanism (default PLAIN).</summary>
    public StreamSaslMechanism SaslMechanism { get; init; } = StreamSaslMechanism.Plain;

    /// <summary>Optional transport wrapper (the TLS seam): receives the network stream, returns the stream to use.</summary>
    public Func<Stream, CancellationToken, ValueTask<Stream>>? StreamWrapper { get; init; }

    /// <summary>A copy with another host and port (used to open a connection to a given broker node).</summary>
    public StreamConnectionSettings WithEndpoint(string host, int port) => new()
    {
        Host = host,
        Port = port,
        UserName = UserName,
        Password = Password,
        CredentialsProvider = CredentialsProvider,
        VirtualHost = VirtualHost,
        ConnectionName = ConnectionName,
        RequestedFrameMax = RequestedFrameMax,
        RequestedHeartbeat = RequestedHeartbeat,
        DeadPeerTimeout = DeadPeerTimeout,
        HandshakeTimeout = HandshakeTimeout,
        RequestTimeout = RequestTimeout,
        StreamWrapper = StreamWrapper,
        Tls = Tls,
        SaslMechanism = SaslMechanism,
    };

    /// <summary>Throws <see cref="ArgumentException"/> for unusable settings.</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Host, nameof(Host));
        ArgumentOutOfRangeException.ThrowIfLessThan(Port, 1, nameof(Port));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, 65535, nameof(Port));
        ArgumentNullException.ThrowIfNull(UserName, nameof(UserName));
        ArgumentNullException.ThrowIfNull(Password, nameof(Password));
        ArgumentException.ThrowIfNullOrEmpty(VirtualHost, nameof(VirtualHost));
        ArgumentOutOfRangeException.ThrowIfLessThan(RequestedHeartbeat, TimeSpan.Zero, nameof(RequestedHeartbeat));
        if (DeadPeerTimeout is { } deadPeer)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(deadPeer, TimeSpan.Zero, nameof(DeadPeerTimeout));
        }
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HandshakeTimeout, TimeSpan.Zero, nameof(HandshakeTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RequestTimeout, TimeSpan.Zero, nameof(RequestTimeout));
    }
}
