using System.Text;
using Streams.Client;

namespace Streams.Hosting;

/// <summary>
/// Connection and behaviour settings, bound from the <c>RabbitStreams</c> configuration section and validated when
/// the host starts. Connect either with <see cref="ConnectionString"/> or with <see cref="Endpoints"/>,
/// <see cref="UserName"/>, <see cref="Password"/> and <see cref="VirtualHost"/>.
/// </summary>
/// <remarks><see cref="ToString"/> never shows the password.</remarks>
public sealed class RabbitStreamsOptions
{
    /// <summary>The configuration section bound by <c>AddRabbitStreams(IConfiguration)</c> when given the configuration root.</summary>
    public const string SectionName = "RabbitStreams";

    /// <summary>
    /// <c>rabbitmq-stream://user:pass@host:5552/vhost</c> (user, password and vhost percent-encoded, <c>%2f</c> = <c>/</c>;
    /// several hosts comma-separated). Cannot be combined with <see cref="Endpoints"/>. <see cref="UserName"/>,
    /// <see cref="Password"/> and <see cref="VirtualHost"/>, when set, override the values in the string (so the
    /// password can come from a secret store).
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Broker nodes (default <c>localhost:5552</c> when neither this nor <see cref="ConnectionString"/> is set).</summary>
    public IList<RabbitStreamsEndpoint> Endpoints { get; } = new List<RabbitStreamsEndpoint>();

    /// <summary>The user name (default <c>guest</c>).</summary>
    public string? UserName { get; set; }

    /// <summary>The password (default <c>guest</c>). Never logged.</summary>
    public string? Password { get; set; }

    /// <summary>
    /// Where the credentials of every connection come from when the secret changes (rotated passwords, OAuth 2 tokens):
    /// asked for each connection and each reconnection; a provider implementing
    /// <see cref="INotifyStreamCredentialsChanged"/> also makes open connections re-authenticate. Default: the
    /// <see cref="IStreamCredentialsProvider"/> registered in the service collection, if any. When set,
    /// <see cref="UserName"/> and <see cref="Password"/> (and those of the connection string) are not used. Set in code only.
    /// </summary>
    public IStreamCredentialsProvider? CredentialsProvider { get; set; }

    /// <summary>The virtual host (default <c>/</c>).</summary>
    public string? VirtualHost { get; set; }

    /// <summary>The client-provided connection name shown in the management UI (default: the host's application name).</summary>
    public string? ConnectionName { get; set; }

    /// <summary>How long a broker request (create stream, query offset…) may take. Default 10 seconds.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long one attempt to open and authenticate a connection may take (default 15 s; a refused login is answered
    /// after about 3 s). It also bounds the connection attempt made during the start (see <see cref="StartBehavior"/>).
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Producers sharing one connection (1-256; default 256, the protocol's one-byte publisher ids). 1 gives every
    /// producer a connection of its own.
    /// </summary>
    public int MaxProducersPerConnection { get; set; } = StreamSystemOptions.MaxEntitiesPerConnection;

    /// <summary>
    /// Consumers sharing one connection (1-256; default 256, the protocol's one-byte subscription ids). 1 gives every
    /// consumer a connection of its own.
    /// </summary>
    public int MaxConsumersPerConnection { get; set; } = StreamSystemOptions.MaxEntitiesPerConnection;

    /// <summary>
    /// What the start does when the broker is not reachable: <see cref="RabbitStreamsStartBehavior.ConnectInBackground"/>
    /// (the default: the host starts and connects in the background, health Unhealthy until connected) or
    /// <see cref="RabbitStreamsStartBehavior.FailFast"/> (the start fails, naming the endpoints).
    /// </summary>
    public RabbitStreamsStartBehavior StartBehavior { get; set; } = RabbitStreamsStartBehavior.ConnectInBackground;

    /// <summary>The back-off of connection recovery: the background connect, producers, consumers (section <c>RabbitStreams:Recovery</c>).</summary>
    public RabbitStreamsRecoveryOptions Recovery { get; set; } = new();

    /// <summary>
    /// The heartbeat requested from the broker (default 10 s, whole seconds; <see cref="TimeSpan.Zero"/> = the broker's
    /// value). The broker then sends something at least that often, which lets the client tell an idle connection from a
    /// dead one.
    /// </summary>
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// No byte from the broker for this long closes the connection as dead and starts its recovery (default: twice
    /// <see cref="Heartbeat"/>, so a crashed node or a network blackhole is noticed within 20-25 s). Must be longer than
    /// <see cref="Heartbeat"/>.
    /// </summary>
    public TimeSpan? DeadPeerTimeout { get; set; }

    /// <summary>Publishing defaults.</summary>
    public RabbitStreamsPublishingOptions Publishing { get; set; } = new();

    /// <summary>Consumer defaults.</summary>
    public RabbitStreamsConsumerOptions Consumers { get; set; } = new();

    /// <summary>How super streams' partitions are followed at run time (section <c>RabbitStreams:SuperStreams</c>).</summary>
    public RabbitStreamsSuperStreamOptions SuperStreams { get; set; } = new();

    /// <summary>
    /// Builds the client options. Throws <see cref="ArgumentException"/> for an invalid <see cref="ConnectionString"/>
    /// (the message never contains the password).
    /// </summary>
    public StreamSystemOptions ToStreamSystemOptions()
    {
        var options = string.IsNullOrWhiteSpace(ConnectionString)
            ? new StreamSystemOptions()
            : StreamSystemOptions.FromUri(ConnectionString);
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            foreach (var endpoint in Endpoints)
            {
                options.Endpoints.Add(new StreamEndpoint(endpoint.Host ?? string.Empty, endpoint.Port));
            }

            if (options.Endpoints.Count == 0)
            {
                options.Endpoints.Add(new StreamEndpoint("localhost"));
            }
        }

        if (UserName is not null)
        {
            options.UserName = UserName;
        }

        if (Password is not null)
        {
            options.Password = Password;
        }

        if (VirtualHost is not null)
        {
            options.VirtualHost = VirtualHost;
        }

        options.ConnectionName = ConnectionName;
        options.CredentialsProvider = CredentialsProvider;
        options.RequestTimeout = RequestTimeout;
        options.ConnectTimeout = ConnectTimeout;
        options.MaxProducersPerConnection = MaxProducersPerConnection;
        options.MaxConsumersPerConnection = MaxConsumersPerConnection;
        options.RequestedHeartbeat = Heartbeat;
        options.DeadPeerTimeout = DeadPeerTimeout;
        return options;
    }

    /// <summary>The settings without the password (also safe for logs).</summary>
    public override string ToString()
    {
        var text = new StringBuilder("RabbitStreamsOptions { ");
        if (!string.IsNullOrWhiteSpace(ConnectionString))
        {
            text.Append("ConnectionString = ").Append(RedactConnectionString(ConnectionString)).Append(", ");
        }

        if (Endpoints.Count > 0)
        {
            text.Append("Endpoints = [").AppendJoin(", ", Endpoints).Append("], ");
        }

        text.Append("UserName = ").Append(UserName ?? "(default)")
            .Append(", Password = ").Append(Password is null ? "(default)" : "***")
            .Append(CredentialsProvider is null ? string.Empty : ", CredentialsProvider = " + CredentialsProvider.GetType().Name)
            .Append(", VirtualHost = ").Append(VirtualHost ?? "(default)")
            .Append(", ConnectionName = ").Append(ConnectionName ?? "(default)")
            .Append(", StartBehavior = ").Append(StartBehavior)
            .Append(", Publishing.Timeout = ").Append(Publishing?.Timeout)
            .Append(", Consumers.CommitEveryMessages = ").Append(Consumers?.CommitEveryMessages)
            .Append(", Consumers.CommitInterval = ").Append(Consumers?.CommitInterval)
            .Append(", Consumers.FailurePolicy = ").Append(Consumers?.FailurePolicy)
            .Append(" }");
        return text.ToString();
    }

    /// <summary>A connection string with its password replaced by <c>***</c>.</summary>
    /// <param name="connectionString">The connection string.</param>
    public static string RedactConnectionString(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var schemeEnd = connectionString.IndexOf("://", StringComparison.Ordinal);
        var start = schemeEnd < 0 ? 0 : schemeEnd + 3;
        var slash = connectionString.IndexOf('/', start);
        var authorityEnd = slash < 0 ? connectionString.Length : slash;
        if (authorityEnd <= start)
        {
            return connectionString;
        }

        var at = connectionString.LastIndexOf('@', authorityEnd - 1, authorityEnd - start);
        if (at < 0)
        {
            return connectionString;
        }

        var colon = connectionString.IndexOf(':', start, at - start);
        return colon < 0
            ? connectionString
            : string.Concat(connectionString.AsSpan(0, colon + 1), "***", connectionString.AsSpan(at));
    }
}
