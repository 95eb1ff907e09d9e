using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Streams.Client.Authentication;
using Streams.Client.Connections.Sharing;
using Streams.Client.Protocol;

namespace Streams.Client.Connections;

/// <summary>
/// One TCP connection to a broker node: handshake, a single read loop dispatching frames, a serialized writer,
/// request/response correlation, heartbeats, and the publisher/subscription id registries.
/// </summary>
internal sealed class StreamConnection : IAsyncDisposable
{
    private const int InitialReadBufferSize = 64 * 1024;
    private const int WriteBufferSize = 64 * 1024;
    private const int MaxInboundFrameSize = 512 * 1024 * 1024;
    private const int CreditSlack = 1;
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private readonly StreamConnectionSettings _settings;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly TcpClient _client;
    private readonly Stream _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly byte[] _writeBuffer = new byte[WriteBufferSize];
    private int _buffered;
    private int _waitingWriters;
    private readonly ConcurrentDictionary<uint, TaskCompletionSource<byte[]>> _pending = new();
    private readonly TaskCompletionSource<TuneFrame> _tune = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Lock _registrationLock = new();
    private readonly Registration<IPublisherFrameHandler>?[] _publishers = new Registration<IPublisherFrameHandler>?[256];
    private readonly Registration<ISubscriptionFrameHandler>?[] _subscriptions = new Registration<ISubscriptionFrameHandler>?[256];

    // Chunks each subscription may still receive: the Subscribe credit plus every Credit sent, minus every Deliver. The
    // broker sends only while a subscription has credit, so a Deliver that takes it below -CreditSlack is a protocol
    // violation (a server ignoring credit would otherwise fill the client's memory with chunks).
    private readonly int[] _credits = new int[256];

    // Ids whose DeletePublisher/Unsubscribe went unanswered: never handed out again on this connection.
    private readonly bool[] _retiredPublishers = new bool[256];
    private readonly bool[] _retiredSubscriptions = new bool[256];
    private int _retiredPublisherCount;
    private int _retiredSubscriptionCount;
    private readonly TaskCompletionSource _closedTask = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _nextPublisherId;
    private int _nextSubscriptionId;
    private int _correlationId;
    private int _closing;
    private ConnectionClosedEventArgs? _closeReason;
    private ConnectionClosedEventArgs? _expectedCloseReason;
    private long _lastReadTimestamp;
    private long _lastWriteTimestamp;
    private ITimer? _heartbeatTimer;
    private Task _readLoop = Task.CompletedTask;
    private readonly SemaphoreSlim _authenticationLock = new(1, 1);
    private readonly string _userName;
    private string _password;

    private sealed record Registration<THandler>(string Stream, THandler Handler);

    // Stream "" never matches a MetadataUpdate (stream names are not empty).
    private static readonly Registration<IPublisherFrameHandler> RetiredPublisher = new(string.Empty, RetiredIdHandler.Instance);
    private static readonly Registration<ISubscriptionFrameHandler> RetiredSubscription = new(string.Empty, RetiredIdHandler.Instance);

    private StreamConnection(StreamConnectionSettings settings, ILogger logger, TimeProvider timeProvider, TcpClient client, Stream stream, string userName, string password)
    {
        _settings = settings;
        _userName = userName;
        _password = password;
        _logger = logger;
        _timeProvider = timeProvider;
        _client = client;
        _stream = stream;
        _lastReadTimestamp = _lastWriteTimestamp = timeProvider.GetTimestamp();
        ServerProperties = new Dictionary<string, string>();
        if (stream is System.Net.Security.SslStream ssl)
        {
            IsTls = true;
            ClientCertificateSubject = ssl.LocalCertificate?.Subject;
        }

        AdvertisedHost = settings.Host;
        AdvertisedPort = settings.Port;
    }

    /// <summary>Raised once when the connection closes, whatever the cause.</summary>
    public event EventHandler<ConnectionClosedEventArgs>? Closed;

    /// <summary>The host this connection was opened to.</summary>
    public string Host => _settings.Host;

    /// <summary>The port this connection was opened to.</summary>
    public int Port => _settings.Port;

    /// <summary>The negotiated frame max in bytes (0 = unlimited).</summary>
    public int FrameMax { get; private set; }

    /// <summary>The negotiated heartbeat (<see cref="TimeSpan.Zero"/> = disabled).</summary>
    public TimeSpan Heartbeat { get; private set; }

    /// <summary>Whether Deliver frames come as version 2 (with the committed chunk id).</summary>
    public bool DeliverV2 { get; private set; }

    /// <summary>Whether the broker accepts Publish version 2 (filter values).</summary>
    public bool PublishV2 { get; private set; }

    /// <summary>The <c>advertised_host</c> of the Open response (the node's own name for itself).</summary>
    public string AdvertisedHost { get; private set; }

    /// <summary>The <c>advertised_port</c> of the Open response.</summary>
    public int AdvertisedPort { get; private set; }

    /// <summary>The broker's peer properties (product, version, cluster_name...).</summary>
    public IReadOnlyDictionary<string, string> ServerProperties { get; private set; }

    /// <summary>The properties of the Open response.</summary>
    public IReadOnlyDictionary<string, string> ConnectionProperties { get; private set; } = new Dictionary<string, string>();

    /// <summary>The connection name sent to the broker.</summary>
    public string? ConnectionName => _settings.ConnectionName;

    /// <summary>True until the connection closes.</summary>
    public bool IsOpen => Volatile.Read(ref _closeReason) is null;

    /// <summary>Why the connection closed, once it has.</summary>
    public ConnectionClosedEventArgs? CloseReason => Volatile.Read(ref _closeReason);

    /// <summary>Whether the connection runs over TLS.</summary>
    public bool IsTls { get; }

    /// <summary>The subject of the client certificate presented in the TLS handshake, if any.</summary>
    public string? ClientCertificateSubject { get; }

    /// <summary>The user this connection is logged in as.</summary>
    public string UserName => _userName;

    /// <summary>How many times the connection re-authenticated successfully since it opened.</summary>
    public int Reauthentications { get; private set; }

    /// <summary>Default request timeout.</summary>
    public TimeSpan RequestTimeout => _settings.RequestTimeout;

    /// <summary>Opens a TCP connection and runs the whole handshake.</summary>
    public static async Task<StreamConnection> ConnectAsync(StreamConnectionSettings settings, ILogger logger, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(timeProvider);
        settings.Validate();

        // Asked before dialling: a failing provider costs no connection, and every attempt (recovery too) gets the current secret.
        var (userName, password) = settings.CredentialsProvider is { } provider
            ? Split(await CredentialsResolver.GetAsync(provider, settings.HandshakeTimeout, timeProvider, cancellationToken).ConfigureAwait(false))
            : (settings.UserName, settings.Password);
        Log.Connecting(logger, settings.Host, settings.Port);

        var client = new TcpClient { NoDelay = true };
        Stream stream;
        try
        {
            using (var timeout = new CancellationTokenSource(settings.HandshakeTimeout, timeProvider))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token))
            {
                try
                {
                    await client.ConnectAsync(settings.Host, settings.Port, linked.Token).ConfigureAwait(false);
                    stream = client.GetStream();
                    if (settings.Tls is { Enabled: true } tls)
                    {
                        stream = await TlsStreamWrapper.Create(tls, settings.Host, settings.Port)(stream, linked.Token).ConfigureAwait(false);
                    }

                    if (settings.StreamWrapper is { } wrapper)
                    {
                        stream = await wrapper(stream, linked.Token).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new StreamTimeoutException($"Connecting to {settings.Host}:{settings.Port}{(settings.Tls is { Enabled: true } ? " (TLS)" : string.Empty)} timed out after {settings.HandshakeTimeout}.");
                }
            }
        }
        catch
        {
            client.Dispose();
            throw;
        }

        var connection = new StreamConnection(settings, logger, timeProvider, client, stream, userName, password);
        connection._readLoop = Task.Run(connection.ReadLoopAsync, CancellationToken.None);
        try
        {
            await connection.HandshakeAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            connection.Shutdown(new ConnectionClosedEventArgs(ConnectionCloseKind.TransportFailure, "handshake failed", null, ex));
            await connection.AwaitReadLoopAsync().ConfigureAwait(false);
            throw;
        }

        Log.Connected(logger, settings.Host, settings.Port, settings.VirtualHost, connection.FrameMax, connection.Heartbeat, connection.DeliverV2, connection.PublishV2);
        return connection;
    }

    private static (string UserName, string Password) Split(StreamCredentials credentials) => (credentials.UserName, credentials.Password);

    private static string ClientVersion { get; } =
        typeof(StreamConnection).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(StreamConnection).Assembly.GetName().Version?.ToString()
        ?? "0.0.0";

    /// <summary>The client peer properties.</summary>
    internal static Dictionary<string, string> BuildClientProperties(string? connectionName)
    {
        var properties = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["product"] = "Streams.Client",
            ["version"] = ClientVersion,
            ["platform"] = $".NET {Environment.Version}",
            ["copyright"] = "Copyright (c) Streams.Hosting contributors",
            ["information"] = "Streams.Client, a RabbitMQ Streams protocol client for .NET. Licensed under the MIT license.",
        };
        if (!string.IsNullOrEmpty(connectionName))
        {
            properties["connection_name"] = connectionName;
        }

        return properties;
    }

    /// <summary>Client rule for Tune: when either side is 0 use the other, else the minimum.</summary>
    internal static uint Negotiate(uint client, uint server) => client == 0 ? server : server == 0 ? client : Math.Min(client, server);

    /// <summary>The command versions the client advertises (what it receives, plus Publish).</summary>
    internal static IReadOnlyList<CommandVersion> ClientCommandVersions { get; } =
    [
        new((ushort)CommandKey.Publish, 1, 2),
        new((ushort)CommandKey.PublishConfirm, 1, 1),
        new((ushort)CommandKey.PublishError, 1, 1),
        new((ushort)CommandKey.Deliver, 1, 2),
        new((ushort)CommandKey.Credit, 1, 1),
        new((ushort)CommandKey.MetadataUpdate, 1, 1),
        new((ushort)CommandKey.Tune, 1, 1),
        new((ushort)CommandKey.Close, 1, 1),
        new((ushort)CommandKey.Heartbeat, 1, 1),
        new((ushort)CommandKey.ConsumerUpdate, 1, 1),
    ];

    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        var timeout = _settings.HandshakeTimeout;
        var peer = Responses.ReadPeerProperties(await RequestAsync(
            c => Requests.PeerProperties(c, BuildClientProperties(_settings.ConnectionName)), "PeerProperties", timeout, cancellationToken).ConfigureAwait(false));
        ThrowIfNotOk(peer.Code, "PeerProperties");
        ServerProperties = peer.Properties;

        var sasl = Responses.ReadSaslHandshake(await RequestAsync(Requests.SaslHandshake, "SaslHandshake", timeout, cancellationToken).ConfigureAwait(false));
        ThrowIfNotOk(sasl.Code, "SaslHandshake");
        await AuthenticateAsync(sasl.Mechanisms, timeout, cancellationToken).ConfigureAwait(false);

        TuneFrame tune;
        try
        {
            tune = await _tune.Task.WaitAsync(timeout, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new StreamTimeoutException($"The broker did not send Tune within {timeout}.");
        }

        var frameMax = Negotiate(_settings.RequestedFrameMax, tune.FrameMax);
        var heartbeat = Negotiate((uint)Math.Ceiling(_settings.RequestedHeartbeat.TotalSeconds), tune.HeartbeatSeconds);

        await WriteAsync(Requests.TuneReply(frameMax, heartbeat), cancellationToken).ConfigureAwait(false);
        FrameMax = (int)Math.Min(frameMax, int.MaxValue);
        Heartbeat = TimeSpan.FromSeconds(heartbeat);
        StartHeartbeat();

        var open = Responses.ReadOpen(await RequestAsync(c => Requests.Open(c, _settings.VirtualHost), "Open", timeout, cancellationToken).ConfigureAwait(false));
        if (open.Code != ResponseCode.Ok)
        {
            throw open.Code == ResponseCode.VirtualHostAccessFailure
                ? new VirtualHostAccessFailureException($"Opening virtual host '{_settings.VirtualHost}' as user '{_userName}' failed: {StreamProtocolException.Describe(open.Code)} (code 0x0c).")
                : StreamProtocolException.Create(open.Code, $"Opening virtual host '{_settings.VirtualHost}'");
        }

        ConnectionProperties = open.Properties;
        if (open.Properties.TryGetValue("advertised_host", out var advertisedHost) && !string.IsNullOrEmpty(advertisedHost))
        {
            AdvertisedHost = advertisedHost;
        }

        if (open.Properties.TryGetValue("advertised_port", out var advertisedPort)
            && int.TryParse(advertisedPort, NumberStyles.Integer, CultureInfo.InvariantCulture, out var port))
        {
            AdvertisedPort = port;
        }

        if (SupportsCommandVersions(ServerProperties))
        {
            var ecv = Responses.ReadExchangeCommandVersions(await RequestAsync(
                c => Requests.ExchangeCommandVersions(c, ClientCommandVersions), "ExchangeCommandVersions", timeout, cancellationToken).ConfigureAwait(false));
            if (ecv.Code == ResponseCode.Ok)
            {
                DeliverV2 = true;
                PublishV2 = ecv.Versions.Any(v => v.Key == (ushort)CommandKey.Publish && v.MaxVersion >= 2);
            }
        }
    }

    private async Task AuthenticateAsync(IReadOnlyList<string> offered, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var external = _settings.SaslMechanism == StreamSaslMechanism.External;
        var mechanism = external ? "EXTERNAL" : "PLAIN";
        if (!offered.Contains(mechanism, StringComparer.OrdinalIgnoreCase))
        {
            var hint = external
                ? " RabbitMQ offers EXTERNAL only on TLS connections with the rabbitmq_auth_mechanism_ssl plugin enabled."
                : string.Empty;
            throw new AuthenticationFailureException(ResponseCode.SaslMechanismNotSupported,
                $"{Host}:{Port} does not offer the {mechanism} SASL mechanism (offered: {string.Join(", ", offered)}).{hint}");
        }

        byte[] data = external ? [] : Requests.PlainSaslData(_userName, _password);
        var auth = Responses.ReadSaslAuthenticate(await RequestAsync(
            c => Requests.SaslAuthenticate(c, mechanism, data), "SaslAuthenticate", timeout, cancellationToken).ConfigureAwait(false));
        if (auth.Code == ResponseCode.Ok)
        {
            return;
        }

        if (external)
        {
            var detail = ClientCertificateSubject is not { } subject
                ? "no client certificate was presented (add one to Tls.ClientCertificates; the broker must trust its CA)"
                : $"the broker did not accept the identity of the client certificate '{subject}' (check ssl_cert_login_from and that the user exists)";
            throw new AuthenticationFailureException(auth.Code,
                $"SASL EXTERNAL authentication on {Host}:{Port} failed: {detail}; {StreamProtocolException.Describe(auth.Code)} (code 0x{(ushort)auth.Code:x2}).");
        }

        throw auth.Code == ResponseCode.AuthenticationFailure
            ? new AuthenticationFailureException(auth.Code, $"Authentication of user '{_userName}'{CredentialsSource} failed on {Host}:{Port}: {StreamProtocolException.Describe(auth.Code)} (code 0x{(ushort)auth.Code:x2}).")
            : StreamProtocolException.Create(auth.Code, $"Authentication of user '{_userName}'{CredentialsSource}");
    }

    private string CredentialsSource => _settings.CredentialsProvider is null ? string.Empty : " (credentials from the CredentialsProvider)";

    /// <summary>
    /// Re-authenticates the open connection with a new secret (RabbitMQ 3.13+): one SaslAuthenticate with the mechanism and
    /// user of the first login; the broker answers OK and keeps the connection, publishers and subscriptions (it re-checks
    /// their permissions and sends MetadataUpdate for streams the user may no longer use). A refusal, or a different user
    /// name (the broker would answer 0x15), closes the connection with <see cref="ConnectionCloseKind.Server"/> so that its
    /// producers and consumers recover (and log in again with the provider's current credentials), and throws
    /// <see cref="AuthenticationFailureException"/>. Returns false, without a frame, for SASL EXTERNAL (nothing to renew).
    /// </summary>
    public async Task<bool> ReauthenticateAsync(StreamCredentials credentials, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        ThrowIfClosed();
        if (_settings.SaslMechanism == StreamSaslMechanism.External)
        {
            return false;
        }

        await _authenticationLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfClosed();
            if (!string.Equals(credentials.UserName, _userName, StringComparison.Ordinal))
            {
                var changed = new AuthenticationFailureException(ResponseCode.SaslCannotChangeUsername,
                    $"Re-authentication of the connection to {Host}:{Port} cannot change the user from '{_userName}' to '{credentials.UserName}' " +
                    "(the broker only accepts a new secret for the same user); the connection is closed and reopened as the new user.");
                await CloseRefusedAsync(changed).ConfigureAwait(false);
                throw changed;
            }

            var data = Requests.PlainSaslData(credentials.UserName, credentials.Password);
            var response = Responses.ReadSaslAuthenticate(await RequestAsync(
                c => Requests.SaslAuthenticate(c, "PLAIN", data), "SaslAuthenticate", _settings.RequestTimeout, cancellationToken).ConfigureAwait(false));
            if (response.Code == ResponseCode.Ok)
            {
                Volatile.Write(ref _password, credentials.Password);
                Reauthentications++;
                Log.Reauthenticated(_logger, Host, Port, _userName);
                return true;
            }

            var refused = new AuthenticationFailureException(response.Code,
                $"The broker {Host}:{Port} refused to re-authenticate user '{_userName}'{CredentialsSource}: {StreamProtocolException.Describe(response.Code)} " +
                $"(code 0x{(ushort)response.Code:x2}); the connection is closed and its producers and consumers recover with the provider's current credentials.");
            await CloseRefusedAsync(refused).ConfigureAwait(false);
            throw refused;
        }
        finally
        {
            _authenticationLock.Release();
        }
    }

    /// <summary>Closes after a refused re-authentication as a broker-side close, so the entities on the connection recover.</summary>
    private async Task CloseRefusedAsync(AuthenticationFailureException refusal)
    {
        Log.ReauthenticationRefused(_logger, Host, Port, _userName, refusal.Code, refusal);
        var reason = new ConnectionClosedEventArgs(ConnectionCloseKind.Server, refusal.Message, refusal.Code, refusal);
        await CloseAsync(reason, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>ExchangeCommandVersions exists since 3.11; unknown versions are assumed recent.</summary>
    internal static bool SupportsCommandVersions(IReadOnlyDictionary<string, string> serverProperties)
    {
        if (!serverProperties.TryGetValue("version", out var raw))
        {
            return true;
        }

        var parts = raw.Split('.', '-', '+');
        if (parts.Length >= 2
            && int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var major)
            && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var minor))
        {
            return major > 3 || (major == 3 && minor >= 11);
        }

        return true;
    }

    // ---------------------------------------------------------------- registrations

    /// <summary>Reserves a publisher id (0–255) for <paramref name="stream"/>; frames for that id go to <paramref name="handler"/>.</summary>
    public byte RegisterPublisher(string stream, IPublisherFrameHandler handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(stream);
        ArgumentNullException.ThrowIfNull(handler);
        ThrowIfClosed();
        lock (_registrationLock)
        {
            for (var i = 0; i < 256; i++)
            {
                var id = (byte)(_nextPublisherId + i);
                if (_publishers[id] is null)
                {
                    Volatile.Write(ref _publishers[id], new Registration<IPublisherFrameHandler>(stream, handler));
                    _nextPublisherId = (byte)(id + 1);
                    return id;
                }
            }
        }

        throw new StreamClientException($"All 256 publisher ids of the connection to {Host}:{Port} are in use; open another connection.");
    }

    /// <summary>
    /// Releases a publisher id for reuse, unless <see cref="DeletePublisherAsync"/> of that id went unanswered: then the
    /// broker may still hold the publisher, so the id stays reserved (retired) for the life of the connection.
    /// </summary>
    public void UnregisterPublisher(byte id) => Release(_publishers, _retiredPublishers, id, RetiredPublisher);

    /// <summary>Reserves a subscription id (0–255) for <paramref name="stream"/>; frames for that id go to <paramref name="handler"/>.</summary>
    public byte RegisterSubscription(string stream, ISubscriptionFrameHandler handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(stream);
        ArgumentNullException.ThrowIfNull(handler);
        ThrowIfClosed();
        lock (_registrationLock)
        {
            for (var i = 0; i < 256; i++)
            {
                var id = (byte)(_nextSubscriptionId + i);
                if (_subscriptions[id] is null)
                {
                    Volatile.Write(ref _subscriptions[id], new Registration<ISubscriptionFrameHandler>(stream, handler));
                    _nextSubscriptionId = (byte)(id + 1);
                    return id;
                }
            }
        }

        throw new StreamClientException($"All 256 subscription ids of the connection to {Host}:{Port} are in use; open another connection.");
    }

    /// <summary>
    /// Releases a subscription id for reuse, unless <see cref="UnsubscribeAsync"/> of that id went unanswered: then the
    /// broker may still deliver to it, so the id stays reserved (retired) for the life of the connection.
    /// </summary>
    public void UnregisterSubscription(byte id) => Release(_subscriptions, _retiredSubscriptions, id, RetiredSubscription);

    /// <summary>Number of publisher ids in use (registered or retired).</summary>
    public int PublisherCount => _publishers.Count(p => p is not null);

    /// <summary>Number of subscription ids in use (registered or retired).</summary>
    public int SubscriptionCount => _subscriptions.Count(s => s is not null);

    /// <summary>Publisher ids that can never be reused on this connection (their DeletePublisher went unanswered).</summary>
    public int RetiredPublisherCount => Volatile.Read(ref _retiredPublisherCount);

    /// <summary>Subscription ids that can never be reused on this connection (their Unsubscribe went unanswered).</summary>
    public int RetiredSubscriptionCount => Volatile.Read(ref _retiredSubscriptionCount);

    private void Release<THandler>(Registration<THandler>?[] registry, bool[] retired, byte id, Registration<THandler> tombstone)
        where THandler : class
    {
        lock (_registrationLock)
        {
            if (retired[id])
            {
                // Frames still addressed to the id land on the tombstone, which ignores them.
                Volatile.Write(ref registry[id], tombstone);
                return;
            }

            Volatile.Write(ref registry[id], null);
        }
    }

    /// <summary>
    /// The broker did not answer DeletePublisher/Unsubscribe for <paramref name="id"/> while the connection stayed open:
    /// it may still know the id, so it must not be handed to another entity.
    /// </summary>
    private void Retire(bool[] retired, byte id, ref int count)
    {
        if (!IsOpen)
        {
            return;
        }

        lock (_registrationLock)
        {
            if (!retired[id])
            {
                retired[id] = true;
                Interlocked.Increment(ref count);
            }
        }

        SharingLog.IdRetired(_logger, Host, Port, ReferenceEquals(retired, _retiredPublishers) ? "publisher" : "subscription", id);
    }

    // ---------------------------------------------------------------- requests

    /// <summary>DeclarePublisher; <paramref name="reference"/> enables deduplication.</summary>
    public async Task DeclarePublisherAsync(byte publisherId, string? reference, string stream, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(stream);
        var response = await RequestAsync(c => Requests.DeclarePublisher(c, publisherId, reference, stream), "DeclarePublisher", cancellationToken).ConfigureAwait(false);
        ThrowIfNotOk(Responses.ReadCodeResponse(response, CommandKey.DeclarePublisher).Code, $"DeclarePublisher (id {publisherId}, reference '{reference}')", stream);
    }

    /// <summary>DeletePublisher. When it goes unanswered the id is retired (see <see cref="UnregisterPublisher"/>).</summary>
    public async Task DeletePublisherAsync(byte publisherId, CancellationToken cancellationToken)
    {
        byte[] response;
        try
        {
            // A token cancelled before the request is sent: the broker keeps the publisher, so the id is retired too.
            cancellationToken.ThrowIfCancellationRequested();
            response = await RequestAsync(c => Requests.DeletePublisher(c, publisherId), "DeletePublisher", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StreamTimeoutException or OperationCanceledException)
        {
            Retire(_retiredPublishers, publisherId, ref _retiredPublisherCount);
            throw;
        }

        ThrowIfNotOk(Responses.ReadCodeResponse(response, CommandKey.DeletePublisher).Code, $"DeletePublisher (id {publisherId})");
    }

    /// <summary>The last publishing id stored for <paramref name="reference"/> on <paramref name="stream"/> (0 if none).</summary>
    public async Task<ulong> QueryPublisherSequenceAsync(string reference, string stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentException.ThrowIfNullOrEmpty(stream);
        var response = Responses.ReadQueryPublisherSequence(await RequestAsync(c => Requests.QueryPublisherSequence(c, reference, stream), "QueryPublisherSequence", cancellationToken).ConfigureAwait(false));
        ThrowIfNotOk(response.Code, $"QueryPublisherSequence (reference '{reference}')", stream);
        return response.Value;
    }

    /// <summary>Subscribe. Register the subscription id first: Deliver frames may follow the response immediately.</summary>
    public async Task SubscribeAsync(byte subscriptionId, string stream, OffsetSpecification offset, ushort credit, IReadOnlyDictionary<string, string>? properties, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(stream);
        Volatile.Write(ref _credits[subscriptionId], credit);
        var response = await RequestAsync(c => Requests.Subscribe(c, subscriptionId, stream, offset, credit, properties), "Subscribe", cancellationToken).ConfigureAwait(false);
        ThrowIfNotOk(Responses.ReadCodeResponse(response, CommandKey.Subscribe).Code, $"Subscribe (id {subscriptionId}, {offset})", stream);
    }

    /// <summary>Unsubscribe. When it goes unanswered the id is retired (see <see cref="UnregisterSubscription"/>).</summary>
    public async Task UnsubscribeAsync(byte subscriptionId, CancellationToken cancellationToken)
    {
        byte[] response;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            response = await RequestAsync(c => Requests.Unsubscribe(c, subscriptionId), "Unsubscribe", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StreamTimeoutException or OperationCanceledException)
        {
            Retire(_retiredSubscriptions, subscriptionId, ref _retiredSubscriptionCount);
            throw;
        }

        ThrowIfNotOk(Responses.ReadCodeResponse(response, CommandKey.Unsubscribe).Code, $"Unsubscribe (id {subscriptionId})");
    }

    /// <summary>Credit (fire-and-forget; errors arrive through <see cref="ISubscriptionFrameHandler.OnCreditError"/>).</summary>
    public async ValueTask CreditAsync(byte subscriptionId, ushort credit)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Requests.CreditFrameSize);
        try
        {
            // Counted before it is written, so the count is never below what the broker may use.
            Interlocked.Add(ref _credits[subscriptionId], credit);
            Requests.WriteCredit(buffer, subscriptionId, credit);
            await WriteAsync(buffer.AsMemory(0, Requests.CreditFrameSize), CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>StoreOffset (fire-and-forget: the broker never answers).</summary>
    public ValueTask StoreOffsetAsync(string reference, string stream, ulong offset)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        ArgumentException.ThrowIfNullOrEmpty(stream);
        return WriteAsync(Requests.StoreOffset(reference, stream, offset), CancellationToken.None);
    }

    /// <summary>The offset stored for <paramref name="reference"/>, or null when none is (NoOffset).</summary>
    public async Task<ulong?> QueryOffsetAsync(string reference, string stream, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        ArgumentException.ThrowIfNullOrEmpty(stream);
        var response = Responses.ReadQueryOffset(await RequestAsync(c => Requests.QueryOffset(c, reference, stream), "QueryOffset", cancellationToken).ConfigureAwait(false));
        if (response.Code == ResponseCode.NoOffset)
        {
            return null;
        }

        ThrowIfNotOk(response.Code, $"QueryOffset (reference '{reference}')", stream);
        return response.Value;
    }

    /// <summary>Create a stream. Returns false when it already exists with the same arguments; throws for any other failure.</summary>
    public async Task<bool> CreateStreamAsync(string stream, IReadOnlyDictionary<string, string>? arguments, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(stream);
        var code = Responses.ReadCodeResponse(await RequestAsync(c => Requests.Create(c, stream, arguments), "Create", cancellationToken).ConfigureAwait(false), CommandKey.Create).Code;
        if (code == ResponseCode.StreamAlreadyExists)
        {
            return false;
        }

        ThrowIfNotOk(code, "Create stream", stream);
        return true;
    }

    /// <summary>Delete a stream.</summary>
    public async Task DeleteStreamAsync(string stream, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(stream);
        var code = Responses.ReadCodeResponse(await RequestAsync(c => Requests.Delete(c, stream), "Delete", cancellationToken).ConfigureAwait(false), CommandKey.Delete).Code;
        ThrowIfNotOk(code, "Delete stream", stream);
    }

    /// <summary>Metadata of streams (per-stream codes; no top-level code).</summary>
    public async Task<MetadataResponse> QueryMetadataAsync(IReadOnlyList<string> streams, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(streams);
        return Responses.ReadMetadata(await RequestAsync(c => Requests.Metadata(c, streams), "Metadata", cancellationToken).ConfigureAwait(false));
    }

    /// <summary>StreamStats (3.11+): <c>first_chunk_id</c>, <c>committed_chunk_id</c>, <c>last_chunk_id</c>.</summary>
    public async Task<IReadOnlyDictionary<string, long>> StreamStatsAsync(string stream, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(stream);
        var response = Responses.ReadStreamStats(await RequestAsync(c => Requests.StreamStats(c, stream), "StreamStats", cancellationToken).ConfigureAwait(false));
        ThrowIfNotOk(response.Code, "StreamStats", stream);
        return response.Statistics;
    }

    /// <summary>Route: the partitions bound to <paramref name="routingKey"/> (empty when none).</summary>
    public async Task<IReadOnlyList<string>> RouteAsync(string routingKey, string superStream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(routingKey);
        ArgumentException.ThrowIfNullOrEmpty(superStream);
        var response = Responses.ReadRoute(await RequestAsync(c => Requests.Route(c, routingKey, superStream), "Route", cancellationToken).ConfigureAwait(false));
        ThrowIfNotOk(response.Code, $"Route (key '{routingKey}')", superStream);
        return response.Streams;
    }

    /// <summary>Partitions of a super stream, in order.</summary>
    public async Task<IReadOnlyList<string>> PartitionsAsync(string superStream, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(superStream);
        var response = Responses.ReadPartitions(await RequestAsync(c => Requests.Partitions(c, superStream), "Partitions", cancellationToken).ConfigureAwait(false));
        ThrowIfNotOk(response.Code, "Partitions", superStream);
        return response.Streams;
    }

    /// <summary>CreateSuperStream (3.13+). Returns false when it already exists.</summary>
    public async Task<bool> CreateSuperStreamAsync(string name, IReadOnlyList<string> partitions, IReadOnlyList<string> bindingKeys, IReadOnlyDictionary<string, string>? arguments, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(partitions);
        ArgumentNullException.ThrowIfNull(bindingKeys);
        if (partitions.Count != bindingKeys.Count)
        {
            throw new ArgumentException("Partitions and binding keys must have the same length.", nameof(bindingKeys));
        }

        var code = Responses.ReadCodeResponse(await RequestAsync(c => Requests.CreateSuperStream(c, name, partitions, bindingKeys, arguments), "CreateSuperStream", cancellationToken).ConfigureAwait(false), CommandKey.CreateSuperStream).Code;
        if (code == ResponseCode.StreamAlreadyExists)
        {
            return false;
        }

        ThrowIfNotOk(code, "Create super stream", name);
        return true;
    }

    /// <summary>DeleteSuperStream (3.13+).</summary>
    public async Task DeleteSuperStreamAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var code = Responses.ReadCodeResponse(await RequestAsync(c => Requests.DeleteSuperStream(c, name), "DeleteSuperStream", cancellationToken).ConfigureAwait(false), CommandKey.DeleteSuperStream).Code;
        ThrowIfNotOk(code, "Delete super stream", name);
    }

    private static void ThrowIfNotOk(ResponseCode code, string operation, string? stream = null)
    {
        if (code != ResponseCode.Ok)
        {
            throw StreamProtocolException.Create(code, operation, stream);
        }
    }

    /// <summary>Sends a request built by <paramref name="build"/> (given the correlation id) and returns the response frame (without size prefix).</summary>
    internal Task<byte[]> RequestAsync(Func<uint, byte[]> build, string operation, CancellationToken cancellationToken) =>
        RequestAsync(build, operation, _settings.RequestTimeout, cancellationToken);

    internal async Task<byte[]> RequestAsync(Func<uint, byte[]> build, string operation, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        var correlationId = unchecked((uint)Interlocked.Increment(ref _correlationId));
        var frame = build(correlationId);
        EnsureFitsFrameMax(frame.Length);
        var completion = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[correlationId] = completion;
        try
        {
            if (Volatile.Read(ref _closeReason) is { } reason)
            {
                throw ClosedException(reason);
            }

            await WriteAsync(frame, cancellationToken).ConfigureAwait(false);
            return await completion.Task.WaitAsync(timeout, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new StreamTimeoutException($"{operation} got no response from {Host}:{Port} within {timeout}.");
        }
        finally
        {
            _pending.TryRemove(correlationId, out _);
        }
    }

    // ---------------------------------------------------------------- writing

    /// <summary>Throws <see cref="FrameTooLargeException"/> when a frame of <paramref name="frameSize"/> bytes (size prefix included) exceeds the negotiated frame max.</summary>
    public void EnsureFitsFrameMax(int frameSize)
    {
        var max = FrameMax;
        if (max > 0 && frameSize > max)
        {
            throw new FrameTooLargeException(frameSize, max);
        }
    }

    /// <summary>
    /// Writes one complete frame (size prefix included). Writes are serialized; cancellation only applies while
    /// waiting for the writer, never in the middle of a frame. Uncontended writes go straight to the socket without
    /// allocating; while other writers wait, frames are coalesced in a buffer and the last writer flushes them in one send.
    /// Completion means the frame was handed to the transport (or to the coalescing buffer a waiting writer will flush).
    /// </summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        EnsureFitsFrameMax(frame.Length);
        if (Volatile.Read(ref _closeReason) is { } reason)
        {
            return ValueTask.FromException(ClosedException(reason));
        }

        if (!_writeLock.Wait(0, CancellationToken.None))
        {
            return WriteContendedAsync(frame, cancellationToken);
        }

        ValueTask write;
        try
        {
            // Hot path: nothing buffered, nobody waiting → straight to the transport, no state machine.
            write = _buffered == 0 && Volatile.Read(ref _waitingWriters) == 0
                ? _stream.WriteAsync(frame, CancellationToken.None)
                : WriteLockedAsync(frame);
        }
        catch (Exception ex)
        {
            _writeLock.Release();
            return ValueTask.FromException(OnWriteFailed(ex));
        }

        if (write.IsCompletedSuccessfully)
        {
            write.GetAwaiter().GetResult();
            _lastWriteTimestamp = _timeProvider.GetTimestamp();
            _writeLock.Release();
            return default;
        }

        return AwaitWriteAsync(write);
    }

    private async ValueTask AwaitWriteAsync(ValueTask write)
    {
        try
        {
            await write.ConfigureAwait(false);
            _lastWriteTimestamp = _timeProvider.GetTimestamp();
        }
        catch (Exception ex)
        {
            throw OnWriteFailed(ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask WriteContendedAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waitingWriters);
        try
        {
            await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // The writer that saw us waiting may have left its frame in the buffer for us to flush.
            if (Interlocked.Decrement(ref _waitingWriters) == 0)
            {
                _ = FlushPendingAsync();
            }

            throw;
        }

        Interlocked.Decrement(ref _waitingWriters);
        try
        {
            if (Volatile.Read(ref _closeReason) is { } reason)
            {
                throw ClosedException(reason);
            }

            await WriteLockedAsync(frame).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not StreamConnectionClosedException)
        {
            throw OnWriteFailed(ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Runs under the write lock.</summary>
    private async ValueTask WriteLockedAsync(ReadOnlyMemory<byte> frame)
    {
        if (_buffered == 0 && Volatile.Read(ref _waitingWriters) == 0)
        {
            await _stream.WriteAsync(frame, CancellationToken.None).ConfigureAwait(false);
            _lastWriteTimestamp = _timeProvider.GetTimestamp();
            return;
        }

        if (frame.Length > _writeBuffer.Length - _buffered)
        {
            await FlushBufferAsync().ConfigureAwait(false);
        }

        if (frame.Length > _writeBuffer.Length)
        {
            await _stream.WriteAsync(frame, CancellationToken.None).ConfigureAwait(false);
            _lastWriteTimestamp = _timeProvider.GetTimestamp();
            return;
        }

        frame.Span.CopyTo(_writeBuffer.AsSpan(_buffered));
        _buffered += frame.Length;
        if (Volatile.Read(ref _waitingWriters) == 0)
        {
            await FlushBufferAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Runs under the write lock.</summary>
    private async ValueTask FlushBufferAsync()
    {
        if (_buffered == 0)
        {
            return;
        }

        var count = _buffered;
        _buffered = 0;
        await _stream.WriteAsync(_writeBuffer.AsMemory(0, count), CancellationToken.None).ConfigureAwait(false);
        _lastWriteTimestamp = _timeProvider.GetTimestamp();
    }

    private async Task FlushPendingAsync()
    {
        await _writeLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (IsOpen)
            {
                await FlushBufferAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            OnWriteFailed(ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private StreamConnectionClosedException OnWriteFailed(Exception ex)
    {
        var reason = new ConnectionClosedEventArgs(ConnectionCloseKind.TransportFailure, $"write failed: {ex.Message}", null, ex);
        Shutdown(reason);
        return ClosedException(Volatile.Read(ref _closeReason) ?? reason);
    }

    private StreamConnectionClosedException ClosedException(ConnectionClosedEventArgs reason) =>
        new($"The connection to {Host}:{Port} is closed ({reason}).", reason);

    private void ThrowIfClosed()
    {
        if (Volatile.Read(ref _closeReason) is { } reason)
        {
            throw ClosedException(reason);
        }
    }

    // ---------------------------------------------------------------- heartbeats

    /// <summary>No inbound byte for this long closes the connection as dead (zero = never).</summary>
    internal TimeSpan DeadPeerTimeout { get; private set; }

    private void StartHeartbeat()
    {
        DeadPeerTimeout = _settings.DeadPeerTimeout ?? Heartbeat * 2;
        if (Heartbeat <= TimeSpan.Zero && DeadPeerTimeout <= TimeSpan.Zero)
        {
            return;
        }

        // Tick often enough to send heartbeats on time and to notice a dead peer within a quarter of the timeout.
        var period = Heartbeat > TimeSpan.Zero ? Heartbeat / 2 : DeadPeerTimeout / 4;
        if (DeadPeerTimeout > TimeSpan.Zero && DeadPeerTimeout / 4 < period)
        {
            period = DeadPeerTimeout / 4;
        }

        _heartbeatTimer = _timeProvider.CreateTimer(static state => ((StreamConnection)state!).OnHeartbeatTick(), this, period, period);
    }

    private void OnHeartbeatTick()
    {
        if (!IsOpen)
        {
            return;
        }

        var sinceRead = _timeProvider.GetElapsedTime(Volatile.Read(ref _lastReadTimestamp));
        if (DeadPeerTimeout > TimeSpan.Zero && sinceRead >= DeadPeerTimeout)
        {
            Log.HeartbeatTimeout(_logger, Host, Port, sinceRead);
            Shutdown(new ConnectionClosedEventArgs(
                ConnectionCloseKind.HeartbeatTimeout,
                $"no data from the broker for {sinceRead.TotalSeconds:0.0} s (dead-peer timeout {DeadPeerTimeout.TotalSeconds:0.#} s, heartbeat {Heartbeat.TotalSeconds:0} s)"));
            return;
        }

        var sinceWrite = _timeProvider.GetElapsedTime(Volatile.Read(ref _lastWriteTimestamp));
        if (Heartbeat > TimeSpan.Zero && sinceWrite >= Heartbeat / 2)
        {
            _ = SendHeartbeatAsync();
        }
    }

    private async Task SendHeartbeatAsync()
    {
        try
        {
            await WriteAsync(Requests.Heartbeat, CancellationToken.None).ConfigureAwait(false);
        }
        catch (StreamClientException ex)
        {
            Log.HeartbeatSendFailed(_logger, ex);
        }
    }

    // ---------------------------------------------------------------- reading

    private async Task ReadLoopAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(InitialReadBufferSize);
        int start = 0, end = 0;
        ConnectionClosedEventArgs reason;
        try
        {
            while (true)
            {
                while (end - start >= ProtocolConstants.SizePrefix)
                {
                    var size = BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(start));
                    if (size < ProtocolConstants.KeyVersionSize || size > MaxInboundFrameSize)
                    {
                        throw new StreamProtocolFormatException($"Invalid inbound frame size {size}.");
                    }

                    var total = (int)size + ProtocolConstants.SizePrefix;
                    if (end - start < total)
                    {
                        // Grow only as the frame's bytes arrive (doubling, never beyond the frame): a size prefix is
                        // untrusted, and one that announces hundreds of MiB must not allocate them before they come.
                        if (total > buffer.Length && end - start == buffer.Length)
                        {
                            var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(total, 2L * buffer.Length));
                            buffer.AsSpan(start, end - start).CopyTo(bigger);
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = bigger;
                            end -= start;
                            start = 0;
                        }

                        break;
                    }

                    ProcessFrame(buffer, start + ProtocolConstants.SizePrefix, (int)size);
                    start += total;
                }

                if (start == end)
                {
                    start = end = 0;
                }
                else if (end == buffer.Length || (start > 0 && buffer.Length - end < 4096))
                {
                    buffer.AsSpan(start, end - start).CopyTo(buffer);
                    end -= start;
                    start = 0;
                }

                var read = await _stream.ReadAsync(buffer.AsMemory(end), _shutdown.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    reason = new ConnectionClosedEventArgs(ConnectionCloseKind.TransportFailure, "the broker closed the socket");
                    break;
                }

                end += read;
                Volatile.Write(ref _lastReadTimestamp, _timeProvider.GetTimestamp());
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException && _shutdown.IsCancellationRequested)
        {
            reason = new ConnectionClosedEventArgs(ConnectionCloseKind.Application, "closed");
        }
        catch (StreamClientException ex) when (ex is StreamProtocolFormatException or StreamProtocolViolationException)
        {
            Log.ProtocolViolation(_logger, Host, Port, ex.Message, ex);
            reason = new ConnectionClosedEventArgs(ConnectionCloseKind.ProtocolViolation, ex.Message, null, ex);
        }
        catch (Exception ex)
        {
            reason = new ConnectionClosedEventArgs(ConnectionCloseKind.TransportFailure, $"read failed: {ex.Message}", null, ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        Shutdown(reason);
    }

    private void ProcessFrame(byte[] buffer, int offset, int length)
    {
        var frame = buffer.AsSpan(offset, length);
        var key = BinaryPrimitives.ReadUInt16BigEndian(frame);
        var version = BinaryPrimitives.ReadUInt16BigEndian(frame[2..]);
        try
        {
            switch (key)
            {
                case (ushort)CommandKey.Deliver:
                    OnDeliver(buffer, offset, length);
                    break;
                case (ushort)CommandKey.PublishConfirm:
                    {
                        var ids = Responses.ReadPublishConfirm(frame, out var publisherId, out var count);
                        if (Volatile.Read(ref _publishers[publisherId]) is { } registration)
                        {
                            registration.Handler.OnConfirm(ids, count);
                        }
                        else
                        {
                            Log.UnknownTarget(_logger, key, "publisher", publisherId);
                        }

                        break;
                    }

                case (ushort)CommandKey.PublishError:
                    {
                        var entries = Responses.ReadPublishError(frame, out var publisherId, out var count);
                        if (Volatile.Read(ref _publishers[publisherId]) is { } registration)
                        {
                            for (var i = 0; i < count; i++)
                            {
                                var (id, code) = Responses.ReadPublishErrorEntry(entries, i);
                                registration.Handler.OnError(id, code);
                            }
                        }
                        else
                        {
                            Log.UnknownTarget(_logger, key, "publisher", publisherId);
                        }

                        break;
                    }

                case (ushort)CommandKey.Heartbeat:
                    break;
                case (ushort)CommandKey.MetadataUpdate:
                    OnMetadataUpdate(Responses.ReadMetadataUpdate(frame));
                    break;
                case (ushort)CommandKey.Tune:
                    _tune.TrySetResult(Responses.ReadTune(frame));
                    break;
                case (ushort)CommandKey.Close:
                    OnServerClose(Responses.ReadCloseRequest(frame));
                    break;
                case (ushort)CommandKey.ConsumerUpdate:
                    OnConsumerUpdate(Responses.ReadConsumerUpdate(frame));
                    break;
                case ProtocolConstants.ResponseFlag | (ushort)CommandKey.Credit:
                    {
                        var error = Responses.ReadCreditError(frame);
                        if (Volatile.Read(ref _subscriptions[error.SubscriptionId]) is { } registration)
                        {
                            registration.Handler.OnCreditError(error.Code);
                        }
                        else
                        {
                            Log.UnknownTarget(_logger, key, "subscription", error.SubscriptionId);
                        }

                        break;
                    }

                default:
                    if ((key & ProtocolConstants.ResponseFlag) != 0 && length >= 8)
                    {
                        var correlationId = BinaryPrimitives.ReadUInt32BigEndian(frame[4..]);
                        if (_pending.TryRemove(correlationId, out var completion))
                        {
                            completion.TrySetResult(frame.ToArray());
                        }
                        else
                        {
                            Log.UnknownCorrelation(_logger, correlationId, key);
                        }
                    }
                    else
                    {
                        Log.UnknownFrame(_logger, key, version);
                    }

                    break;
            }
        }
        catch (StreamClientException ex) when (ex is StreamProtocolFormatException or StreamProtocolViolationException)
        {
            // Malformed frames and protocol violations close the connection (the read loop reports them).
            throw;
        }
        catch (Exception ex)
        {
            Log.HandlerFailed(_logger, key, ex);
        }
    }

    private void OnDeliver(byte[] buffer, int offset, int length)
    {
        var frame = buffer.AsSpan(offset, length);
        var chunkOffset = Responses.ReadDeliverHeader(frame, out var subscriptionId, out var committedChunkId);
        if (Volatile.Read(ref _subscriptions[subscriptionId]) is not { } registration)
        {
            Log.UnknownTarget(_logger, (ushort)CommandKey.Deliver, "subscription", subscriptionId);
            return;
        }

        if (Interlocked.Decrement(ref _credits[subscriptionId]) < -CreditSlack)
        {
            throw new StreamProtocolViolationException(
                $"The broker sent subscription {subscriptionId} (stream {registration.Stream}) a chunk beyond the credit the client granted; closing the connection.");
        }

        var array = ArrayPool<byte>.Shared.Rent(length);
        frame.CopyTo(array);
        var owned = new FrameBuffer(array);
        registration.Handler.OnDeliver(owned, array.AsMemory(chunkOffset, length - chunkOffset), committedChunkId);
    }

    private void OnMetadataUpdate(MetadataUpdateFrame update)
    {
        Log.MetadataUpdate(_logger, update.Stream, update.Code);
        for (var i = 0; i < 256; i++)
        {
            if (Volatile.Read(ref _publishers[i]) is { } publisher && publisher.Stream == update.Stream)
            {
                try
                {
                    publisher.Handler.OnMetadataUpdate(update.Code);
                }
                catch (Exception ex)
                {
                    Log.HandlerFailed(_logger, (ushort)CommandKey.MetadataUpdate, ex);
                }
            }

            if (Volatile.Read(ref _subscriptions[i]) is { } subscription && subscription.Stream == update.Stream)
            {
                try
                {
                    subscription.Handler.OnMetadataUpdate(update.Code);
                }
                catch (Exception ex)
                {
                    Log.HandlerFailed(_logger, (ushort)CommandKey.MetadataUpdate, ex);
                }
            }
        }
    }

    private void OnConsumerUpdate(ConsumerUpdateRequest request)
    {
        // A retired id answers like an unknown one: nobody would consume for it if the broker activated it.
        var registration = Volatile.Read(ref _subscriptions[request.SubscriptionId]);
        _ = AnswerConsumerUpdateAsync(request, ReferenceEquals(registration, RetiredSubscription) ? null : registration?.Handler);
    }

    private async Task AnswerConsumerUpdateAsync(ConsumerUpdateRequest request, ISubscriptionFrameHandler? handler)
    {
        var spec = OffsetSpecification.None;
        var code = ResponseCode.Ok;
        try
        {
            if (handler is null)
            {
                Log.UnknownTarget(_logger, (ushort)CommandKey.ConsumerUpdate, "subscription", request.SubscriptionId);
                code = ResponseCode.SubscriptionIdDoesNotExist;
            }
            else
            {
                spec = await handler.OnConsumerUpdateAsync(request.Active).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            Log.ConsumerUpdateFailed(_logger, request.SubscriptionId, ex);
        }

        try
        {
            await WriteAsync(Requests.ConsumerUpdateResponse(request.CorrelationId, code, spec), CancellationToken.None).ConfigureAwait(false);
        }
        catch (StreamClientException ex)
        {
            Log.ConsumerUpdateFailed(_logger, request.SubscriptionId, ex);
        }
    }

    private void OnServerClose(CloseRequest request)
    {
        Log.ServerClose(_logger, request.Code, request.Reason);
        var reason = new ConnectionClosedEventArgs(ConnectionCloseKind.Server, string.IsNullOrEmpty(request.Reason) ? "closed by the broker" : request.Reason, request.Code);
        Interlocked.CompareExchange(ref _expectedCloseReason, reason, null);
        _ = ReplyToServerCloseAsync(request.CorrelationId, reason);
    }

    private async Task ReplyToServerCloseAsync(uint correlationId, ConnectionClosedEventArgs reason)
    {
        try
        {
            await WriteAsync(Requests.CloseResponse(correlationId, ResponseCode.Ok), CancellationToken.None).ConfigureAwait(false);
        }
        catch (StreamClientException ex)
        {
            Log.CloseHandshakeFailed(_logger, ex);
        }

        Shutdown(reason);
    }

    // ---------------------------------------------------------------- closing

    /// <summary>Closes gracefully: Close(OK), wait for the reply (bounded), then close the socket. Idempotent.</summary>
    public Task CloseAsync(CancellationToken cancellationToken = default) =>
        CloseAsync(new ConnectionClosedEventArgs(ConnectionCloseKind.Application, "closed by the application", ResponseCode.Ok), cancellationToken);

    private async Task CloseAsync(ConnectionClosedEventArgs applicationClose, CancellationToken cancellationToken)
    {
        if (!IsOpen)
        {
            await AwaitReadLoopAsync().ConfigureAwait(false);
            return;
        }

        if (Interlocked.Exchange(ref _closing, 1) == 0)
        {
            Interlocked.CompareExchange(ref _expectedCloseReason, applicationClose, null);
            try
            {
                var timeout = _settings.RequestTimeout < CloseTimeout ? _settings.RequestTimeout : CloseTimeout;
                await RequestAsync(c => Requests.Close(c, ResponseCode.Ok, "OK"), "Close", timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is StreamClientException or OperationCanceledException)
            {
                Log.CloseHandshakeFailed(_logger, ex);
            }

            Shutdown(applicationClose);
        }

        await _closedTask.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        await AwaitReadLoopAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await CloseAsync(CancellationToken.None).ConfigureAwait(false);
        _shutdown.Dispose();
    }

    private async Task AwaitReadLoopAsync()
    {
        try
        {
            await _readLoop.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.CloseHandshakeFailed(_logger, ex);
        }
    }

    /// <summary>Closes the socket and notifies everyone, once. An expected reason (Close in progress) wins over the observed one.</summary>
    private void Shutdown(ConnectionClosedEventArgs observed)
    {
        var reason = Volatile.Read(ref _expectedCloseReason) ?? observed;
        if (Interlocked.CompareExchange(ref _closeReason, reason, null) is not null)
        {
            return;
        }

        _heartbeatTimer?.Dispose();
        try
        {
            _shutdown.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        try
        {
            _stream.Dispose();
            _client.Dispose();
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
        }

        var closed = ClosedException(reason);
        foreach (var correlationId in _pending.Keys)
        {
            if (_pending.TryRemove(correlationId, out var completion))
            {
                completion.TrySetException(closed);
            }
        }

        _tune.TrySetException(closed);
        _ = _tune.Task.Exception;

        for (var i = 0; i < 256; i++)
        {
            if (Volatile.Read(ref _publishers[i]) is { } publisher)
            {
                try
                {
                    publisher.Handler.OnConnectionClosed(reason);
                }
                catch (Exception ex)
                {
                    Log.HandlerFailed(_logger, (ushort)CommandKey.Close, ex);
                }
            }

            if (Volatile.Read(ref _subscriptions[i]) is { } subscription)
            {
                try
                {
                    subscription.Handler.OnConnectionClosed(reason);
                }
                catch (Exception ex)
                {
                    Log.HandlerFailed(_logger, (ushort)CommandKey.Close, ex);
                }
            }
        }

        Log.Closed(_logger, Host, Port, reason);
        try
        {
            Closed?.Invoke(this, reason);
        }
        catch (Exception ex)
        {
            Log.HandlerFailed(_logger, (ushort)CommandKey.Close, ex);
        }

        _closedTask.TrySetResult();
    }

    /// <summary>For tests: simulate a dead peer / abort the socket without a Close frame.</summary>
    internal void Abort(ConnectionClosedEventArgs reason) => Shutdown(reason);

    /// <summary>The runtime description, for diagnostics.</summary>
    internal static string Platform => RuntimeInformation.FrameworkDescription;
}
