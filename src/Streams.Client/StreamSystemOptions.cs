using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Client.Connections;

namespace Streams.Client;

/// <summary>How a <see cref="StreamSystem"/> connects to RabbitMQ.</summary>
public sealed class StreamSystemOptions
{
    /// <summary>The URI scheme accepted by <see cref="FromUri"/>.</summary>
    public const string UriScheme = "rabbitmq-stream";

    /// <summary>The TLS URI scheme accepted by <see cref="FromUri"/> (default port <see cref="StreamEndpoint.DefaultTlsPort"/>).</summary>
    public const string TlsUriScheme = "rabbitmq-stream+tls";

    /// <summary>Broker nodes, tried in order. Empty means <c>localhost:5552</c>.</summary>
    public IList<StreamEndpoint> Endpoints { get; } = new List<StreamEndpoint>();

    /// <summary>User name (default <c>guest</c>).</summary>
    public string UserName { get; set; } = "guest";

    /// <summary>Password (default <c>guest</c>).</summary>
    public string Password { get; set; } = "guest";

    /// <summary>
    /// Where the credentials of every connection come from (management, producers, consumers, and each reconnection of
    /// their recovery), for secrets that change: rotated passwords, OAuth 2 tokens. <see langword="null"/> (the default) =
    /// <see cref="UserName"/> and <see cref="Password"/>, which are ignored when a provider is set. A provider that also
    /// implements <see cref="INotifyStreamCredentialsChanged"/> makes open connections re-authenticate when it changes;
    /// otherwise call <see cref="StreamSystem.ReauthenticateAsync"/>.
    /// </summary>
    public IStreamCredentialsProvider? CredentialsProvider { get; set; }

    /// <summary>Virtual host (default <c>/</c>).</summary>
    public string VirtualHost { get; set; } = "/";

    /// <summary>Client-provided connection name shown in the management UI; connections get a suffix per role.</summary>
    public string? ConnectionName { get; set; }

    /// <summary>Requested maximum frame size in bytes (default 1 MiB; 0 = accept the broker's value).</summary>
    public int RequestedFrameMax { get; set; } = (int)StreamConnectionSettings.DefaultFrameMax;

    /// <summary>
    /// Requested heartbeat (default 10 s; <see cref="TimeSpan.Zero"/> = accept the broker's value). The smaller non-zero
    /// value of client and broker wins. Whole seconds. The broker sends a heartbeat when it has sent nothing else for that
    /// long, which is what lets the client tell an idle connection from a dead peer (<see cref="DeadPeerTimeout"/>).
    /// </summary>
    public TimeSpan RequestedHeartbeat { get; set; } = StreamConnectionSettings.DefaultHeartbeat;

    /// <summary>
    /// How long the connection may go without receiving a single byte before it is declared dead, closed
    /// (<see cref="ConnectionCloseKind.HeartbeatTimeout"/>) and recovered. <see langword="null"/> (the default) = twice the
    /// negotiated heartbeat, so the defaults notice a silent peer (a crashed node, a network blackhole, a server that stops
    /// mid-frame) within 20-25 s. When set it must be longer than <see cref="RequestedHeartbeat"/> (a healthy idle broker
    /// is only heard from once per heartbeat); it also applies when heartbeats are off, as a plain read timeout.
    /// </summary>
    public TimeSpan? DeadPeerTimeout { get; set; }

    /// <summary>Time allowed for a broker response (default 10 s).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Time allowed to open and authenticate a connection (default 15 s; failed logins are answered after ~3 s).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Logger factory (default: no logging).</summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    /// <summary>Time source for heartbeats and timeouts (default <see cref="TimeProvider.System"/>).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>TLS settings (off by default; the broker's TLS listener is conventionally on port 5551).</summary>
    public StreamTlsOptions Tls { get; } = new();

    /// <summary>
    /// How to log in (default <see cref="StreamSaslMechanism.Plain"/> with <see cref="UserName"/> and <see cref="Password"/>);
    /// <see cref="StreamSaslMechanism.External"/> needs <see cref="Tls"/> with a client certificate.
    /// </summary>
    public StreamSaslMechanism SaslMechanism { get; set; } = StreamSaslMechanism.Plain;

    /// <summary>
    /// Load-balancer mode: maps the address of the node the client wants (a configured endpoint, or a leader/replica
    /// advertised in stream metadata) to the address actually dialled, e.g. always the load balancer. When set, each
    /// producer/consumer connection checks the <c>advertised_host</c>/<c>advertised_port</c> of the node it reached and
    /// reconnects (at most <see cref="AddressResolverMaxAttempts"/> times) until it is the wanted node.
    /// </summary>
    public Func<StreamEndpoint, StreamEndpoint>? AddressResolver { get; set; }

    /// <summary>How many connections are tried to reach a given node through the <see cref="AddressResolver"/> (default 30).</summary>
    public int AddressResolverMaxAttempts { get; set; } = 30;

    /// <summary>
    /// The most producers or consumers one connection can carry: the protocol's publisher and subscription ids are one
    /// byte, so 256, which is also the broker's limit per connection.
    /// </summary>
    public const int MaxEntitiesPerConnection = 256;

    /// <summary>
    /// How many producers share one connection (1–<see cref="MaxEntitiesPerConnection"/>, default
    /// <see cref="MaxEntitiesPerConnection"/>). Producers share connections to the stream's leader, never with consumers;
    /// a connection closes when its last producer does, and when it is lost each of its producers recovers on its own.
    /// 1 gives every producer a connection of its own.
    /// </summary>
    public int MaxProducersPerConnection { get; set; } = MaxEntitiesPerConnection;

    /// <summary>
    /// How many consumers share one connection (1–<see cref="MaxEntitiesPerConnection"/>, default
    /// <see cref="MaxEntitiesPerConnection"/>). Consumers share connections to a replica of their stream (the leader when
    /// there is none), never with producers; each keeps its own credit, so a slow handler does not hold up the others.
    /// 1 gives every consumer a connection of its own.
    /// </summary>
    public int MaxConsumersPerConnection { get; set; } = MaxEntitiesPerConnection;

    /// <summary>
    /// The sub-entry compression codecs of this system's producers and consumers: none and gzip are built in; add Snappy,
    /// LZ4 and Zstd with the <c>Streams.Client.Compression</c> package (<c>AddAllCompressionCodecs()</c>) or your own
    /// <see cref="ICompressionCodec"/>. A consumer reading a sub-entry batch whose codec is missing fails with
    /// <see cref="UnsupportedCompressionException"/> naming the codec and the package.
    /// </summary>
    public CompressionCodecRegistry CompressionCodecs { get; } = new();

    /// <summary>Registers <paramref name="codec"/> in <see cref="CompressionCodecs"/> (replacing the codec of the same type).</summary>
    /// <param name="codec">The codec.</param>
    /// <returns>These options.</returns>
    public StreamSystemOptions AddCompressionCodec(ICompressionCodec codec)
    {
        CompressionCodecs.Add(codec);
        return this;
    }

    /// <summary>Transport wrapper seam (TLS): receives the connected network stream and returns the stream to use.</summary>
    internal Func<Stream, CancellationToken, ValueTask<Stream>>? StreamWrapper { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> with a message naming the first invalid option.</summary>
    public void Validate()
    {
        if (Endpoints.Any(e => e is null))
        {
            throw new ArgumentException("Endpoints must not contain null entries.", nameof(Endpoints));
        }

        if (UserName is null)
        {
            throw new ArgumentException("UserName must be set.", nameof(UserName));
        }

        if (Password is null)
        {
            throw new ArgumentException("Password must be set.", nameof(Password));
        }

        if (string.IsNullOrEmpty(VirtualHost))
        {
            throw new ArgumentException("VirtualHost must not be empty (the default virtual host is \"/\").", nameof(VirtualHost));
        }

        if (RequestedFrameMax < 0 || (RequestedFrameMax > 0 && RequestedFrameMax < 1024))
        {
            throw new ArgumentException($"RequestedFrameMax must be 0 (broker value) or at least 1024 bytes; got {RequestedFrameMax}.", nameof(RequestedFrameMax));
        }

        if (RequestedHeartbeat < TimeSpan.Zero || RequestedHeartbeat.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new ArgumentException($"RequestedHeartbeat must be zero (broker value) or a positive whole number of seconds; got {RequestedHeartbeat}.", nameof(RequestedHeartbeat));
        }

        if (DeadPeerTimeout is { } deadPeer
            && (deadPeer < TimeSpan.FromSeconds(1) || (RequestedHeartbeat > TimeSpan.Zero && deadPeer <= RequestedHeartbeat)))
        {
            throw new ArgumentException(
                $"DeadPeerTimeout must be at least 1 s and longer than RequestedHeartbeat ({RequestedHeartbeat.TotalSeconds:0} s); got {deadPeer}.",
                nameof(DeadPeerTimeout));
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"RequestTimeout must be positive; got {RequestTimeout}.", nameof(RequestTimeout));
        }

        if (ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"ConnectTimeout must be positive; got {ConnectTimeout}.", nameof(ConnectTimeout));
        }

        if (LoggerFactory is null)
        {
            throw new ArgumentException("LoggerFactory must not be null.", nameof(LoggerFactory));
        }

        if (TimeProvider is null)
        {
            throw new ArgumentException("TimeProvider must not be null.", nameof(TimeProvider));
        }

        if (Tls is null)
        {
            throw new ArgumentException("Tls must not be null.", nameof(Tls));
        }

        Tls.Validate();
        if (!Enum.IsDefined(SaslMechanism))
        {
            throw new ArgumentException($"Unknown SaslMechanism {SaslMechanism}.", nameof(SaslMechanism));
        }

        if (SaslMechanism == StreamSaslMechanism.External && !Tls.Enabled)
        {
            throw new ArgumentException("SaslMechanism External takes the identity from the TLS client certificate: enable Tls (and add a client certificate).", nameof(SaslMechanism));
        }

        if (AddressResolverMaxAttempts < 1)
        {
            throw new ArgumentException($"AddressResolverMaxAttempts must be at least 1; got {AddressResolverMaxAttempts}.", nameof(AddressResolverMaxAttempts));
        }

        if (MaxProducersPerConnection is < 1 or > MaxEntitiesPerConnection)
        {
            throw new ArgumentException($"MaxProducersPerConnection must be between 1 and {MaxEntitiesPerConnection} (publisher ids are one byte); got {MaxProducersPerConnection}.", nameof(MaxProducersPerConnection));
        }

        if (MaxConsumersPerConnection is < 1 or > MaxEntitiesPerConnection)
        {
            throw new ArgumentException($"MaxConsumersPerConnection must be between 1 and {MaxEntitiesPerConnection} (subscription ids are one byte); got {MaxConsumersPerConnection}.", nameof(MaxConsumersPerConnection));
        }
    }

    /// <summary>
    /// Parses <c>rabbitmq-stream://user:pass@host:port/vhost</c> (user, password and vhost percent-encoded, <c>%2f</c> = <c>/</c>;
    /// an empty path means the default vhost <c>/</c>; several hosts may be given comma-separated: <c>host1:5552,host2:5552</c>).
    /// <c>rabbitmq-stream+tls://</c> enables <see cref="Tls"/> and makes the default port 5551.
    /// </summary>
    /// <param name="uri">The connection URI.</param>
    public static StreamSystemOptions FromUri(string uri)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uri);
        var prefix = UriScheme + "://";
        var tlsPrefix = TlsUriScheme + "://";
        var tls = uri.StartsWith(tlsPrefix, StringComparison.OrdinalIgnoreCase);
        if (!tls && !uri.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"The connection URI must start with '{prefix}' or '{tlsPrefix}' (got '{Redact(uri)}').", nameof(uri));
        }

        var rest = uri[(tls ? tlsPrefix : prefix).Length..];
        var options = new StreamSystemOptions();
        options.Tls.Enabled = tls;
        var defaultPort = tls ? StreamEndpoint.DefaultTlsPort : StreamEndpoint.DefaultPort;
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash < 0 ? rest : rest[..slash];
        var path = slash < 0 ? string.Empty : rest[(slash + 1)..];
        var query = path.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
        {
            path = path[..query];
        }

        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            var userInfo = authority[..at];
            authority = authority[(at + 1)..];
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            options.UserName = Uri.UnescapeDataString(colon < 0 ? userInfo : userInfo[..colon]);
            options.Password = colon < 0 ? string.Empty : Uri.UnescapeDataString(userInfo[(colon + 1)..]);
        }

        foreach (var hostPort in authority.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            options.Endpoints.Add(ParseHostPort(hostPort, uri, defaultPort));
        }

        if (options.Endpoints.Count == 0)
        {
            throw new ArgumentException($"The connection URI '{Redact(uri)}' has no host.", nameof(uri));
        }

        options.VirtualHost = path.Length == 0 ? "/" : Uri.UnescapeDataString(path);
        return options;
    }

    private static StreamEndpoint ParseHostPort(string hostPort, string uri, int defaultPort)
    {
        string host;
        var portText = string.Empty;
        if (hostPort.StartsWith('['))
        {
            var close = hostPort.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new ArgumentException($"Invalid IPv6 host in '{Redact(uri)}'.", nameof(uri));
            }

            host = hostPort[1..close];
            if (close + 1 < hostPort.Length && hostPort[close + 1] == ':')
            {
                portText = hostPort[(close + 2)..];
            }
        }
        else
        {
            var colon = hostPort.LastIndexOf(':');
            host = colon < 0 ? hostPort : hostPort[..colon];
            portText = colon < 0 ? string.Empty : hostPort[(colon + 1)..];
        }

        if (string.IsNullOrWhiteSpace(host))
        {
            throw new ArgumentException($"The connection URI '{Redact(uri)}' has an empty host.", nameof(uri));
        }

        var port = defaultPort;
        if (portText.Length > 0 && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            throw new ArgumentException($"Invalid port '{portText}' in '{Redact(uri)}'.", nameof(uri));
        }

        return new StreamEndpoint(host, port);
    }

    private static string Redact(string uri)
    {
        var at = uri.LastIndexOf('@');
        var scheme = uri.IndexOf("://", StringComparison.Ordinal);
        return at > 0 && scheme >= 0 && at > scheme ? string.Concat(uri.AsSpan(0, scheme + 3), "***", uri.AsSpan(at)) : uri;
    }

    internal StreamConnectionSettings ToConnectionSettings(StreamEndpoint endpoint, string? connectionName) => new()
    {
        Host = endpoint.Host,
        Port = endpoint.Port,
        UserName = UserName,
        Password = Password,
        CredentialsProvider = CredentialsProvider,
        VirtualHost = VirtualHost,
        ConnectionName = connectionName,
        RequestedFrameMax = (uint)RequestedFrameMax,
        RequestedHeartbeat = RequestedHeartbeat,
        DeadPeerTimeout = DeadPeerTimeout,
        RequestTimeout = RequestTimeout,
        HandshakeTimeout = ConnectTimeout,
        StreamWrapper = StreamWrapper,
        Tls = Tls.Enabled ? Tls : null,
        SaslMechanism = SaslMechanism,
    };
}
