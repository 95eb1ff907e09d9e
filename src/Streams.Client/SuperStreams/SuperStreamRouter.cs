using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Client.SuperStreams;

namespace Streams.Client;

/// <summary>
/// Picks the partition(s) of a super stream for a routing key, by hash over the current partition count or by the
/// binding keys of the super stream's exchange (Route answers cached per key). With
/// <see cref="SuperStreamRouterOptions.PartitionRefreshInterval"/>, the partition list is re-read periodically so that
/// partitions added to (or removed from) the super stream at run time are routed to (or no longer) without a restart;
/// every change clears the cached routes and raises <see cref="PartitionsChanged"/>. <see cref="SuperStreamProducer"/>
/// routes with it; so can an application publishing through producers of its own. Thread-safe.
/// </summary>
public sealed class SuperStreamRouter : IAsyncDisposable
{
    private const int MaxCachedRoutes = 10_000;

    private readonly ISuperStreamTopology _topology;
    private readonly SuperStreamRouterOptions _options;
    private readonly ConcurrentDictionary<string, string[]> _routes = new(StringComparer.Ordinal);
    private readonly ILogger _logger;
    private SuperStreamPartitionWatcher _watcher = null!;
    private string[] _partitions;
    private int _disposed;

    private SuperStreamRouter(ISuperStreamTopology topology, SuperStreamRouterOptions options, string[] partitions, ILogger logger)
    {
        _topology = topology;
        _options = options;
        _partitions = partitions;
        _logger = logger;
    }

    /// <summary>The super stream.</summary>
    public string SuperStream => _options.SuperStream;

    /// <summary>How partitions are chosen.</summary>
    public SuperStreamRoutingStrategy RoutingStrategy => _options.RoutingStrategy;

    /// <summary>The partitions currently known, in order.</summary>
    public IReadOnlyList<string> Partitions => Volatile.Read(ref _partitions);

    /// <summary>
    /// Raised after the partition list changed (by a periodic or an explicit refresh), once the new list is in use.
    /// Handlers run on the refreshing thread and must not block.
    /// </summary>
    public event EventHandler<SuperStreamPartitionsChangedEventArgs>? PartitionsChanged;

    /// <summary>Reads the partitions of the super stream and creates the router.</summary>
    /// <param name="topology">Where partitions and routes are read (a <see cref="StreamSystem"/>).</param>
    /// <param name="options">The settings (validated).</param>
    /// <param name="logger">Logs partition changes and failed refreshes (default none).</param>
    /// <param name="cancellationToken">Cancels reading the partitions.</param>
    /// <exception cref="StreamDoesNotExistException">The super stream has no partitions (it does not exist).</exception>
    public static async Task<SuperStreamRouter> CreateAsync(ISuperStreamTopology topology, SuperStreamRouterOptions options, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var partitions = await topology.QueryPartitionsAsync(options.SuperStream, cancellationToken).ConfigureAwait(false);
        if (partitions.Count == 0)
        {
            throw new StreamDoesNotExistException(options.SuperStream, $"Super stream '{options.SuperStream}' has no partitions (does it exist?).");
        }

        var router = new SuperStreamRouter(topology, options, [.. partitions], logger ?? NullLogger.Instance);
        router._watcher = new SuperStreamPartitionWatcher(
            topology, options.SuperStream, partitions, options.PartitionRefreshInterval ?? Timeout.InfiniteTimeSpan, router.OnChangedAsync, options.TimeProvider, router._logger);
        return router;
    }

    private Task OnChangedAsync(SuperStreamPartitionsChangedEventArgs change, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _partitions, [.. change.Partitions]);
        _routes.Clear();
        PartitionsChanged?.Invoke(this, change);
        return Task.CompletedTask;
    }

    /// <summary>Re-reads the partition list now (what the refresh interval does periodically); true when it changed.</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    public Task<bool> RefreshPartitionsAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _watcher.RefreshAsync(cancellationToken);
    }

    /// <summary>
    /// The partitions <paramref name="routingKey"/> goes to: one with <see cref="SuperStreamRoutingStrategy.Hash"/>
    /// (over the current partition count), every bound one with <see cref="SuperStreamRoutingStrategy.Key"/>.
    /// </summary>
    /// <param name="routingKey">The routing key.</param>
    /// <param name="cancellationToken">Cancels a Route query.</param>
    /// <exception cref="SuperStreamRoutingException">No partition is bound to the key.</exception>
    public ValueTask<IReadOnlyList<string>> RouteAsync(string routingKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(routingKey);
        ThrowIfDisposed();
        if (_options.RoutingStrategy == SuperStreamRoutingStrategy.Hash)
        {
            var partitions = Volatile.Read(ref _partitions);
            return ValueTask.FromResult<IReadOnlyList<string>>([partitions[SuperStreamProducer.HashPartition(routingKey, partitions.Length)]]);
        }

        return _routes.TryGetValue(routingKey, out var cached)
            ? ValueTask.FromResult<IReadOnlyList<string>>(cached)
            : QueryRouteAsync(routingKey, cancellationToken);
    }

    private async ValueTask<IReadOnlyList<string>> QueryRouteAsync(string routingKey, CancellationToken cancellationToken)
    {
        var routed = await _topology.QueryRouteAsync(routingKey, _options.SuperStream, cancellationToken).ConfigureAwait(false);
        if (routed.Count == 0)
        {
            throw new SuperStreamRoutingException(_options.SuperStream, routingKey,
                $"No partition of super stream '{_options.SuperStream}' is bound to routing key '{routingKey}' (key routing uses the binding keys; bind the key or use hash routing).");
        }

        if (_routes.Count >= MaxCachedRoutes)
        {
            _routes.Clear();
        }

        var result = routed.ToArray();
        _routes[routingKey] = result;
        return result;
    }

    /// <summary>Stops the periodic refresh.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _watcher.DisposeAsync().ConfigureAwait(false);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}

/// <summary>Settings of a <see cref="SuperStreamRouter"/>.</summary>
public sealed class SuperStreamRouterOptions
{
    /// <summary>Creates options for routing to the partitions of <paramref name="superStream"/>.</summary>
    /// <param name="superStream">The super stream name.</param>
    public SuperStreamRouterOptions(string superStream)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(superStream);
        SuperStream = superStream;
    }

    /// <summary>The super stream.</summary>
    public string SuperStream { get; }

    /// <summary>How the partition is chosen (default <see cref="SuperStreamRoutingStrategy.Hash"/>).</summary>
    public SuperStreamRoutingStrategy RoutingStrategy { get; set; } = SuperStreamRoutingStrategy.Hash;

    /// <summary>
    /// How often the partition list is re-read so that added and removed partitions are followed without a restart
    /// (default <see langword="null"/> = never; the list is read once at creation).
    /// </summary>
    public TimeSpan? PartitionRefreshInterval { get; set; }

    /// <summary>The clock of the partition refresh (default <see cref="TimeProvider.System"/>).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws an <see cref="ArgumentException"/> describing the first invalid setting.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(RoutingStrategy))
        {
            throw new ArgumentOutOfRangeException(nameof(RoutingStrategy), RoutingStrategy, "Unknown routing strategy.");
        }

        if (PartitionRefreshInterval is { } interval && interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(PartitionRefreshInterval), interval, "PartitionRefreshInterval must be positive (or null to disable it).");
        }

        if (TimeProvider is null)
        {
            throw new ArgumentException("TimeProvider must not be null.", nameof(TimeProvider));
        }
    }
}
