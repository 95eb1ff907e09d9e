using System.Text;
using Microsoft.Extensions.Logging;
using Streams.Client.Authentication;
using Streams.Client.Connections;
using Streams.Client.Connections.Sharing;
using Streams.Client.Producers;
using Streams.Client.Protocol;

namespace Streams.Client;

/// <summary>
/// The entry point of the client: a management connection to the cluster (streams, metadata, offsets) and
/// the factory of the connections used by producers and consumers.
/// </summary>
public sealed class StreamSystem : IAsyncDisposable
{
    private readonly StreamSystemOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _reconnectLock = new(1, 1);
    private readonly Reauthenticator _reauthenticator;
    private StreamConnection _connection;
    private int _disposed;

    private StreamSystem(StreamSystemOptions options, StreamConnection connection, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _reauthenticator = new Reauthenticator(options, logger);
        _connection = _reauthenticator.Track(connection);
        var poolLogger = options.LoggerFactory.CreateLogger("Streams.Client.Connections.Sharing");
        ProducerConnections = new ConnectionPool(ConnectionRole.Producer, options.MaxProducersPerConnection, poolLogger);
        ConsumerConnections = new ConnectionPool(ConnectionRole.Consumer, options.MaxConsumersPerConnection, poolLogger);
    }

    /// <summary>The connections shared by this system's producers.</summary>
    internal ConnectionPool ProducerConnections { get; }

    /// <summary>The connections shared by this system's consumers.</summary>
    internal ConnectionPool ConsumerConnections { get; }

    /// <summary>The options this system was created with.</summary>
    internal StreamSystemOptions Options => _options;

    /// <summary>Whether the management connection is open.</summary>
    public bool IsOpen => Volatile.Read(ref _disposed) == 0 && _connection.IsOpen;

    /// <summary>The management connection (reopened on demand by the management methods).</summary>
    internal StreamConnection Connection => _connection;

    internal ILoggerFactory LoggerFactory => _options.LoggerFactory;

    internal TimeProvider TimeProvider => _options.TimeProvider;

    /// <summary>Connects to the first reachable endpoint of <paramref name="options"/>.</summary>
    /// <param name="options">Connection options.</param>
    /// <param name="cancellationToken">Cancels connecting.</param>
    public static async Task<StreamSystem> ConnectAsync(StreamSystemOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var logger = options.LoggerFactory.CreateLogger("Streams.Client.StreamSystem");
        var connection = await ConnectAnyAsync(options, logger, cancellationToken).ConfigureAwait(false);
        return new StreamSystem(options, connection, logger);
    }

    private static StreamEndpoint[] EndpointsOf(StreamSystemOptions options) =>
        options.Endpoints.Count == 0 ? [new StreamEndpoint("localhost")] : options.Endpoints.ToArray();

    private static async Task<StreamConnection> ConnectAnyAsync(StreamSystemOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var failures = new List<Exception>();
        foreach (var endpoint in EndpointsOf(options))
        {
            try
            {
                return await OpenAsync(options, endpoint, SuffixedName(options.ConnectionName, "management"), logger, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is AuthenticationFailureException or VirtualHostAccessFailureException or StreamCredentialsException)
            {
                // Credentials and vhost are cluster-wide: another node will say the same (and a failing provider fails again).
                throw;
            }
            catch (Exception ex) when (ex is StreamClientException or System.Net.Sockets.SocketException or IOException)
            {
                failures.Add(ex);
            }
        }

        if (failures.Count > 0 && failures.TrueForAll(f => f is StreamTlsException))
        {
            // Certificates and names are configuration: the first node's precise reason is the useful one.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failures[0]).Throw();
        }

        var tried = string.Join(", ", EndpointsOf(options));
        throw new StreamClientException($"Could not connect to any endpoint ({tried}): {string.Join("; ", failures.Select(f => f.Message))}", new AggregateException(failures));
    }

    /// <summary>Dials <paramref name="endpoint"/>, or what the <see cref="StreamSystemOptions.AddressResolver"/> maps it to.</summary>
    private static Task<StreamConnection> OpenAsync(StreamSystemOptions options, StreamEndpoint endpoint, string? connectionName, ILogger logger, CancellationToken cancellationToken) =>
        OpenResolvedAsync(options, Resolve(options, endpoint), connectionName, logger, cancellationToken);

    private static Task<StreamConnection> OpenResolvedAsync(StreamSystemOptions options, StreamEndpoint address, string? connectionName, ILogger logger, CancellationToken cancellationToken) =>
        StreamConnection.ConnectAsync(options.ToConnectionSettings(address, connectionName), logger, options.TimeProvider, cancellationToken);

    private static StreamEndpoint Resolve(StreamSystemOptions options, StreamEndpoint endpoint) =>
        options.AddressResolver is { } resolver
            ? resolver(endpoint) ?? throw new StreamClientException($"The AddressResolver returned null for {endpoint}.")
            : endpoint;

    /// <summary>Whether <paramref name="connection"/> reached <paramref name="node"/> (by the host and port the node advertises).</summary>
    internal static bool IsNode(StreamConnection connection, StreamEndpoint node) =>
        string.Equals(connection.AdvertisedHost, node.Host, StringComparison.OrdinalIgnoreCase) && connection.AdvertisedPort == node.Port;

    private static string? SuffixedName(string? name, string role) => name is null ? null : $"{name}-{role}";

    /// <summary>Opens an additional connection to a given node, outside the shared producer and consumer connections.</summary>
    internal Task<StreamConnection> OpenConnectionAsync(string host, int port, CancellationToken cancellationToken) =>
        OpenConnectionAsync(host, port, null, cancellationToken);

    /// <summary>
    /// Opens an additional connection to a given node, naming it <c>{ConnectionName}-{role}</c>. With an
    /// <see cref="StreamSystemOptions.AddressResolver"/> (load-balancer mode) the resolved address is dialled and the
    /// connection kept only when the node reached advertises <paramref name="host"/>:<paramref name="port"/>; other
    /// connections are closed and the dial repeated, at most <see cref="StreamSystemOptions.AddressResolverMaxAttempts"/> times.
    /// </summary>
    internal Task<StreamConnection> OpenConnectionAsync(string host, int port, string? role, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var node = new StreamEndpoint(host, port);
        return _options.AddressResolver is null
            ? TrackAsync(OpenAsync(_options, node, ConnectionNameFor(role), ConnectionLogger(), cancellationToken))
            : OpenThroughResolverAsync(node, [node], role, cancellationToken);
    }

    private async Task<StreamConnection> TrackAsync(Task<StreamConnection> opening) => _reauthenticator.Track(await opening.ConfigureAwait(false));

    private string? ConnectionNameFor(string? role) => role is null ? _options.ConnectionName : SuffixedName(_options.ConnectionName, role);

    private ILogger ConnectionLogger() => _options.LoggerFactory.CreateLogger("Streams.Client.Connection");

    /// <summary>
    /// Load-balancer mode: dials the resolved address of <paramref name="dial"/> until the node reached advertises one of
    /// <paramref name="wanted"/>, closing the others.
    /// </summary>
    private async Task<StreamConnection> OpenThroughResolverAsync(StreamEndpoint dial, IReadOnlyList<StreamEndpoint> wanted, string? role, CancellationToken cancellationToken)
    {
        var reached = new List<string>();
        Exception? lastFailure = null;
        var logger = ConnectionLogger();
        var wantedText = string.Join(", ", wanted);
        StreamEndpoint? dialled = null;
        for (var attempt = 1; attempt <= _options.AddressResolverMaxAttempts; attempt++)
        {
            ThrowIfDisposed();
            StreamConnection connection;
            try
            {
                dialled = Resolve(_options, dial);
                connection = await TrackAsync(OpenResolvedAsync(_options, dialled, ConnectionNameFor(role), logger, cancellationToken)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException or StreamTimeoutException)
            {
                lastFailure = ex;
                reached.Add($"({ex.GetType().Name})");
                continue;
            }

            if (wanted.Any(node => IsNode(connection, node)))
            {
                Log.ResolverReached(_logger, connection.AdvertisedHost, connection.AdvertisedPort, attempt);
                return connection;
            }

            Log.ResolverWrongNode(_logger, connection.AdvertisedHost, connection.AdvertisedPort, wantedText, attempt);
            reached.Add($"{connection.AdvertisedHost}:{connection.AdvertisedPort}");
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        var message = $"Could not reach {(wanted.Count == 1 ? "node " + wanted[0] : "any of the nodes " + string.Join(", ", wanted))} through the AddressResolver " +
            $"(dialled {dialled} {_options.AddressResolverMaxAttempts} times; reached {string.Join(", ", reached)}). " +
            "Check that the load balancer spreads connections over every node and that the nodes advertise the host and port the client sees in metadata (stream.advertised_host/advertised_port).";
        throw lastFailure is null ? new StreamClientException(message) : new StreamClientException(message, lastFailure);
    }

    /// <summary>How many rounds over the configured endpoints are tried to land on a given node behind a load balancer.</summary>
    private const int LocateAttempts = 5;

    /// <summary>
    /// Opens a connection to the node serving <paramref name="stream"/>: the leader (publishers) or, when
    /// <paramref name="preferReplica"/> and replicas exist, a replica (consumers). With an
    /// <see cref="StreamSystemOptions.AddressResolver"/>, any replica is accepted. When the advertised address is not
    /// reachable (load balancer, NAT), connects through the configured endpoints until the node reached advertises the
    /// wanted host and port.
    /// </summary>
    internal async Task<StreamConnection> OpenConnectionForStreamAsync(string stream, bool preferReplica, string? role, CancellationToken cancellationToken)
    {
        var candidates = await LocateAsync(stream, preferReplica, cancellationToken).ConfigureAwait(false);
        return await OpenConnectionToAnyAsync(stream, candidates, role, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A lease on a connection of <paramref name="role"/> to the node serving <paramref name="stream"/> (the leader for
    /// producers; for consumers a replica when there is one, else the leader): a shared connection with room
    /// (<see cref="StreamSystemOptions.MaxProducersPerConnection"/>, <see cref="StreamSystemOptions.MaxConsumersPerConnection"/>)
    /// or a new one, opened as <see cref="OpenConnectionForStreamAsync"/> does. The entity releases the lease when it
    /// closes or moves; the connection closes with its last lease.
    /// </summary>
    internal async Task<IStreamOperations> AcquireConnectionAsync(ConnectionRole role, string stream, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        bool producer = role == ConnectionRole.Producer;
        var candidates = await LocateAsync(stream, preferReplica: !producer, cancellationToken).ConfigureAwait(false);
        var pool = producer ? ProducerConnections : ConsumerConnections;
        string roleName = producer ? "producer" : "consumer";
        return await pool.AcquireAsync(candidates, ct => OpenConnectionToAnyAsync(stream, candidates, roleName, ct), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The nodes a connection for <paramref name="stream"/> may go to: the leader, or with <paramref name="preferReplica"/> the replicas when there are any.</summary>
    /// <remarks>
    /// A stream that is "not available" (its members are still starting right after creation, or a leader is being
    /// elected) is asked again a few times, 50 ms apart doubling (about 1.5 s in all), before the error is thrown;
    /// any other error code is thrown at once.
    /// </remarks>
    private async Task<IReadOnlyList<StreamEndpoint>> LocateAsync(string stream, bool preferReplica, CancellationToken cancellationToken)
    {
        ValidateStreamName(stream);
        var delay = TimeSpan.FromMilliseconds(50);
        for (var attempt = 1; ; attempt++)
        {
            var metadata = (await QueryMetadataAsync([stream], cancellationToken).ConfigureAwait(false))[0];
            bool transient = metadata.Code == ResponseCode.StreamNotAvailable || (metadata.Code == ResponseCode.Ok && metadata.Leader is null && (!preferReplica || metadata.Replicas.Count == 0));
            if (transient && attempt < LocateAttempts)
            {
                await Task.Delay(delay, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
                delay *= 2;
                continue;
            }

            if (metadata.Code != ResponseCode.Ok)
            {
                throw StreamProtocolException.Create(metadata.Code, "Locating the node", stream);
            }

            return preferReplica && metadata.Replicas.Count > 0
                ? metadata.Replicas
                : metadata.Leader is { } leader ? [leader] : throw new StreamNotAvailableException(stream, $"Stream '{stream}' has no available leader right now.");
        }
    }

    /// <summary>Opens a connection to one of <paramref name="candidates"/> (a random one is dialled).</summary>
    private async Task<StreamConnection> OpenConnectionToAnyAsync(string stream, IReadOnlyList<StreamEndpoint> candidates, string? role, CancellationToken cancellationToken)
    {
        var target = candidates[Random.Shared.Next(candidates.Count)];
        if (_options.AddressResolver is not null)
        {
            return await OpenThroughResolverAsync(target, candidates, role, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await OpenConnectionAsync(target.Host, target.Port, role, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException or StreamTimeoutException)
        {
            for (var attempt = 0; attempt < LocateAttempts; attempt++)
            {
                foreach (var endpoint in EndpointsOf(_options))
                {
                    StreamConnection connection;
                    try
                    {
                        connection = await OpenConnectionAsync(endpoint.Host, endpoint.Port, role, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception inner) when (inner is System.Net.Sockets.SocketException or IOException or StreamTimeoutException)
                    {
                        continue;
                    }

                    if (IsNode(connection, target))
                    {
                        return connection;
                    }

                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }

            throw new StreamClientException($"Could not reach node {target} serving stream '{stream}' directly ({ex.Message}) nor through the configured endpoints.", ex);
        }
    }

    /// <summary>The management connection, reopened if it was lost.</summary>
    internal async ValueTask<StreamConnection> GetConnectionAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var connection = Volatile.Read(ref _connection);
        if (connection.IsOpen)
        {
            return connection;
        }

        await _reconnectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            if (!_connection.IsOpen)
            {
                await _connection.DisposeAsync().ConfigureAwait(false);
                Volatile.Write(ref _connection, await TrackAsync(ConnectAnyAsync(_options, _logger, cancellationToken)).ConfigureAwait(false));
            }

            return _connection;
        }
        finally
        {
            _reconnectLock.Release();
        }
    }

    /// <summary>
    /// Re-authenticates every open connection of this system (management, producers, consumers) with the current
    /// credentials of <see cref="StreamSystemOptions.CredentialsProvider"/> (or <see cref="StreamSystemOptions.UserName"/>
    /// and <see cref="StreamSystemOptions.Password"/>), using the stream protocol's re-authentication of an open connection
    /// (RabbitMQ 3.13+): publishers and subscriptions stay as they are. Call it after the secret changed, e.g. before an
    /// OAuth 2 token expires; a provider implementing <see cref="INotifyStreamCredentialsChanged"/> triggers it by itself.
    /// The user name must stay the same. A connection whose re-authentication is refused is closed and its producers and
    /// consumers recover, logging in again with the provider's credentials.
    /// </summary>
    /// <param name="cancellationToken">Cancels waiting for the provider and the broker.</param>
    /// <returns>How many connections re-authenticated (SASL EXTERNAL connections have nothing to renew and are not counted).</returns>
    /// <exception cref="AuthenticationFailureException">The broker refused the new secret on at least one connection (the first refusal is thrown after every connection was tried).</exception>
    /// <exception cref="StreamCredentialsException">The provider failed; nothing was sent.</exception>
    public Task<int> ReauthenticateAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _reauthenticator.ReauthenticateAsync(cancellationToken);
    }

    /// <summary>The connections of this system that are open now (tests and diagnostics).</summary>
    internal IReadOnlyCollection<StreamConnection> OpenConnections => _reauthenticator.OpenConnections;

    /// <summary>
    /// Creates a stream. When it already exists with the same arguments nothing happens; with different arguments
    /// a <see cref="StreamAlreadyExistsWithDifferentArgumentsException"/> is thrown.
    /// </summary>
    /// <param name="name">The stream name.</param>
    /// <param name="spec">Retention and placement arguments (null = broker defaults). Validated before anything is sent.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>True when the stream was created, false when it already existed.</returns>
    public async Task<bool> CreateStreamAsync(string name, StreamSpec? spec = null, CancellationToken cancellationToken = default)
    {
        ValidateStreamName(name);
        var arguments = spec?.ToArguments() ?? new Dictionary<string, string>();
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await connection.CreateStreamAsync(name, arguments, cancellationToken).ConfigureAwait(false);
        }
        catch (PreconditionFailedException ex) when (ex is not StreamAlreadyExistsWithDifferentArgumentsException)
        {
            if (await StreamExistsAsync(name, cancellationToken).ConfigureAwait(false))
            {
                throw new StreamAlreadyExistsWithDifferentArgumentsException(name,
                    $"Stream '{name}' already exists with arguments different from the requested ones ({spec?.ToString() ?? "(broker defaults)"}). " +
                    "Stream arguments cannot be changed after creation: use the existing arguments, a policy, or delete and recreate the stream.");
            }

            throw new PreconditionFailedException(
                $"Create stream '{name}' was refused by the broker (precondition failed, code 0x11): check the name (not empty, no 'amq.' prefix) and the arguments ({spec?.ToString() ?? "(broker defaults)"}).");
        }
    }

    /// <summary>Deletes a stream; throws <see cref="StreamDoesNotExistException"/> when it does not exist.</summary>
    /// <param name="name">The stream name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task DeleteStreamAsync(string name, CancellationToken cancellationToken = default)
    {
        ValidateStreamName(name);
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        await connection.DeleteStreamAsync(name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether a stream exists.</summary>
    /// <param name="name">The stream name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<bool> StreamExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        ValidateStreamName(name);
        var metadata = await QueryMetadataAsync([name], cancellationToken).ConfigureAwait(false);
        return metadata[0].Exists;
    }

    /// <summary>Leader and replicas of streams.</summary>
    /// <param name="streams">Stream names.</param>
    public Task<IReadOnlyList<StreamMetadata>> QueryMetadataAsync(params string[] streams) => QueryMetadataAsync((IEnumerable<string>)streams, CancellationToken.None);

    /// <summary>Leader and replicas of streams, in the order asked.</summary>
    /// <param name="streams">Stream names.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<IReadOnlyList<StreamMetadata>> QueryMetadataAsync(IEnumerable<string> streams, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(streams);
        var names = streams.ToArray();
        foreach (var name in names)
        {
            ValidateStreamName(name, nameof(streams));
        }

        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        var response = await connection.QueryMetadataAsync(names, cancellationToken).ConfigureAwait(false);
        var brokers = new Dictionary<ushort, StreamEndpoint>(response.Brokers.Count);
        foreach (var b in response.Brokers)
        {
            // Untrusted input: an unusable address or a reference listed twice is a malformed response, not a crash.
            if (string.IsNullOrWhiteSpace(b.Host) || b.Port is < 1 or > 65535 || !brokers.TryAdd(b.Reference, new StreamEndpoint(b.Host, (int)b.Port)))
            {
                throw new StreamProtocolFormatException(
                    $"The Metadata response lists an unusable broker (reference {b.Reference}, host '{b.Host}', port {b.Port}; references must be unique).");
            }
        }

        var byName = new Dictionary<string, StreamMetadata>(StringComparer.Ordinal);
        foreach (var s in response.Streams)
        {
            var leader = brokers.GetValueOrDefault(s.LeaderReference);
            var replicas = s.ReplicaReferences.Where(brokers.ContainsKey).Select(r => brokers[r]).ToArray();
            byName[s.Name] = new StreamMetadata(s.Name, s.Code, leader, replicas);
        }

        return names.Select(n => byName.GetValueOrDefault(n) ?? new StreamMetadata(n, ResponseCode.StreamDoesNotExist, null, [])).ToArray();
    }

    /// <summary>First, committed and last chunk ids of a stream.</summary>
    /// <param name="stream">The stream name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<StreamStatistics> GetStreamStatisticsAsync(string stream, CancellationToken cancellationToken = default)
    {
        ValidateStreamName(stream);
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        return StreamStatistics.From(await connection.StreamStatsAsync(stream, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The offset stored by a named consumer, or null when none is.</summary>
    /// <param name="reference">The consumer name (at most 255 UTF-8 bytes).</param>
    /// <param name="stream">The stream name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<ulong?> QueryOffsetAsync(string reference, string stream, CancellationToken cancellationToken = default)
    {
        ValidateReference(reference);
        ValidateStreamName(stream);
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.QueryOffsetAsync(reference, stream, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stores an offset for a named consumer. Fire-and-forget: the broker does not confirm it.</summary>
    /// <param name="reference">The consumer name (at most 255 UTF-8 bytes).</param>
    /// <param name="stream">The stream name.</param>
    /// <param name="offset">The offset to store (conventionally the last processed one).</param>
    /// <param name="cancellationToken">Cancels reopening the connection if needed.</param>
    public async Task StoreOffsetAsync(string reference, string stream, ulong offset, CancellationToken cancellationToken = default)
    {
        ValidateReference(reference);
        ValidateStreamName(stream);
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        await connection.StoreOffsetAsync(reference, stream, offset).ConfigureAwait(false);
    }

    /// <summary>The last publishing id stored for a producer reference (0 when unknown).</summary>
    /// <param name="reference">The producer name (at most 255 UTF-8 bytes).</param>
    /// <param name="stream">The stream name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<ulong> QueryPublisherSequenceAsync(string reference, string stream, CancellationToken cancellationToken = default)
    {
        ValidateReference(reference);
        ValidateStreamName(stream);
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.QueryPublisherSequenceAsync(reference, stream, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Creates a super stream with <paramref name="partitions"/> partitions named <c>{name}-{i}</c> bound with keys <c>{i}</c>.
    /// Returns false when it already exists.
    /// </summary>
    /// <param name="name">The super stream name.</param>
    /// <param name="partitions">Number of partitions (1–1000).</param>
    /// <param name="spec">Arguments applied to every partition.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<bool> CreateSuperStreamAsync(string name, int partitions, StreamSpec? spec = null, CancellationToken cancellationToken = default)
    {
        ValidateStreamName(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(partitions, 1000);
        var names = Enumerable.Range(0, partitions).Select(i => $"{name}-{i}").ToArray();
        var keys = Enumerable.Range(0, partitions).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return CreateSuperStreamAsync(name, names, keys, spec, cancellationToken);
    }

    /// <summary>Creates a super stream with explicit partition names and binding keys. Returns false when it already exists.</summary>
    /// <param name="name">The super stream name.</param>
    /// <param name="partitions">Partition stream names, in order.</param>
    /// <param name="bindingKeys">One binding key per partition.</param>
    /// <param name="spec">Arguments applied to every partition.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<bool> CreateSuperStreamAsync(string name, IReadOnlyList<string> partitions, IReadOnlyList<string> bindingKeys, StreamSpec? spec = null, CancellationToken cancellationToken = default)
    {
        ValidateStreamName(name);
        ArgumentNullException.ThrowIfNull(partitions);
        ArgumentNullException.ThrowIfNull(bindingKeys);
        if (partitions.Count == 0 || partitions.Count != bindingKeys.Count)
        {
            throw new ArgumentException("A super stream needs at least one partition and exactly one binding key per partition.", nameof(bindingKeys));
        }

        var arguments = spec?.ToArguments() ?? new Dictionary<string, string>();
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.CreateSuperStreamAsync(name, partitions, bindingKeys, arguments, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes a super stream and its partitions.</summary>
    /// <param name="name">The super stream name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task DeleteSuperStreamAsync(string name, CancellationToken cancellationToken = default)
    {
        ValidateStreamName(name);
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        await connection.DeleteSuperStreamAsync(name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The partitions of a super stream, in order.</summary>
    /// <param name="superStream">The super stream name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<IReadOnlyList<string>> QueryPartitionsAsync(string superStream, CancellationToken cancellationToken = default)
    {
        ValidateStreamName(superStream);
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.PartitionsAsync(superStream, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The partitions bound to a routing key (empty when none).</summary>
    /// <param name="routingKey">The routing key.</param>
    /// <param name="superStream">The super stream name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<IReadOnlyList<string>> QueryRouteAsync(string routingKey, string superStream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(routingKey);
        ValidateStreamName(superStream);
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.RouteAsync(routingKey, superStream, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the management connection gracefully.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _reauthenticator.Dispose();
        await _reconnectLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _reconnectLock.Release();
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    private static void ValidateStreamName(string name, string? parameterName = null)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("A stream name must not be null, empty or white space.", parameterName ?? nameof(name));
        }

        if (Encoding.UTF8.GetByteCount(name) > short.MaxValue)
        {
            throw new ArgumentException("A stream name is limited to 32767 UTF-8 bytes.", parameterName ?? nameof(name));
        }
    }

    private static void ValidateReference(string reference)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        if (Encoding.UTF8.GetByteCount(reference) > ProtocolConstants.MaxReferenceLength)
        {
            throw new ArgumentException($"A reference is limited to {ProtocolConstants.MaxReferenceLength} UTF-8 bytes.", nameof(reference));
        }
    }
}
