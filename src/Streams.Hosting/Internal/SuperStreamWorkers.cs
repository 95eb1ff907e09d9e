using Microsoft.Extensions.Logging;
using Streams.Client;

namespace Streams.Hosting.Internal;

/// <summary>
/// One hosted consumer of a super stream: a <see cref="ConsumerWorker"/> per partition, following the partition list
/// with the client's <see cref="SuperStreamPartitionWatcher"/> (every RabbitStreams:SuperStreams:PartitionRefreshInterval).
/// An added partition gets a worker at once; a removed one (unbound, or deleted) has its worker stopped like at
/// shutdown (in-flight handlers finish, the processed offset is stored) and dropped from the status. A partition
/// added at run time is read from its first message when nothing is stored for the consumer's name: everything in it
/// was routed there after this consumer started, possibly before this instance's refresh noticed it (a publisher
/// elsewhere may refresh first), so starting at its end would lose those messages.
/// </summary>
internal sealed class SuperStreamWorkers : IDisposable
{
    private readonly ConsumerRegistration _registration;
    private readonly StreamConsumerOptions _options;
    private readonly ConsumerWorkerServices _services;
    private readonly Dictionary<string, Partition> _partitions = new(StringComparer.Ordinal);
    private readonly ILogger _watcherLogger;
    private readonly StreamConsumerOptions _addedOptions;
    private SuperStreamPartitionWatcher? _watcher;
    private CancellationToken _stopping;
    private CancellationToken _abort;

    public SuperStreamWorkers(ConsumerRegistration registration, StreamConsumerOptions options, ConsumerWorkerServices services)
    {
        _registration = registration;
        _options = options;
        _addedOptions = options.StartingAt(OffsetSpecification.First);
        _services = services;
        _watcherLogger = services.LoggerFactory.CreateLogger<SuperStreamPartitionWatcher>();
    }

    public ConsumerRegistration Registration => _registration;

    public StreamConsumerOptions Options => _options;

    /// <summary>The workers of the partitions consumed now, in partition order.</summary>
    public IReadOnlyList<ConsumerWorker> Workers
    {
        get
        {
            lock (_partitions)
            {
                return [.. _partitions.Values.OrderBy(p => p.Order).Select(p => p.Worker)];
            }
        }
    }

    /// <summary>Creates the workers of <paramref name="partitions"/> (shown by the status from now on); <see cref="RunAsync"/> runs them.</summary>
    public void Add(IReadOnlyList<string> partitions)
    {
        lock (_partitions)
        {
            foreach (var partition in partitions)
            {
                Add(partition, _options);
            }
        }
    }

    /// <summary>Consumes <paramref name="partitions"/> and follows the partition list until <paramref name="stopping"/>.</summary>
    public async Task RunAsync(IReadOnlyList<string> partitions, CancellationToken stopping, CancellationToken abort)
    {
        _stopping = stopping;
        _abort = abort;
        Add(partitions);
        lock (_partitions)
        {
            foreach (var entry in _partitions.Values)
            {
                Run(entry);
            }
        }

        var interval = _services.Options.Value.SuperStreams.PartitionRefreshIntervalFor(_options.Stream);
        if (interval != Timeout.InfiniteTimeSpan)
        {
            _watcher = new SuperStreamPartitionWatcher(_services.Backend, _options.Stream, partitions, interval, OnChangedAsync, _services.Time, _watcherLogger);
        }

        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The host is stopping: every worker stops too (their tokens are linked to it).
        }

        if (_watcher is not null)
        {
            await _watcher.DisposeAsync().ConfigureAwait(false);
        }

        Task[] runs;
        lock (_partitions)
        {
            runs = [.. _partitions.Values.Select(p => p.Run ?? Task.CompletedTask)];
        }

        await Task.WhenAll(runs).ConfigureAwait(false);
    }

    /// <summary>Creates the worker of a partition (under the lock).</summary>
    private Partition Add(string partition, StreamConsumerOptions options)
    {
        if (_partitions.TryGetValue(partition, out var existing))
        {
            return existing;
        }

        var worker = new ConsumerWorker(_registration, options, partition, _services.Options.Value.Consumers, _services);
        var entry = new Partition(worker, _partitions.Count == 0 ? 0 : _partitions.Values.Max(p => p.Order) + 1);
        _partitions[partition] = entry;
        return entry;
    }

    /// <summary>Runs a worker not running yet (under the lock, once <see cref="RunAsync"/> set the tokens).</summary>
    private void Run(Partition entry)
    {
        if (entry.Run is not null)
        {
            return;
        }

        entry.Stop = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
        var stop = entry.Stop.Token;
        entry.Run = Task.Run(() => entry.Worker.RunAsync(stop, _abort), CancellationToken.None);
        _ = RefreshWhenEndedAsync(entry.Run, stop);
    }

    /// <summary>
    /// A worker that ended on its own (its partition stream was deleted...): when the partition is gone from the super
    /// stream, refreshing now removes it at once rather than on the next tick. (Not awaited by the removal, which waits
    /// for the worker's run.)
    /// </summary>
    private async Task RefreshWhenEndedAsync(Task run, CancellationToken stop)
    {
        await run.ConfigureAwait(false);
        if (stop.IsCancellationRequested || _watcher is not { } watcher)
        {
            return;
        }

        try
        {
            await watcher.RefreshAsync(_stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // The host is stopping.
        }
        catch (ObjectDisposedException) when (_stopping.IsCancellationRequested)
        {
            // The watcher was disposed at shutdown.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.SuperStreamPartitionsRefreshFailed(_services.Logger, _registration.HandlerType.Name, _options.Stream, ex);
        }
    }

    private async Task OnChangedAsync(SuperStreamPartitionsChangedEventArgs change, CancellationToken cancellationToken)
    {
        lock (_partitions)
        {
            foreach (var partition in change.Added)
            {
                Log.SuperStreamPartitionAdded(_services.Logger, _registration.HandlerType.Name, _options.Stream, partition);
                Run(Add(partition, _addedOptions));
            }

            // Keep the broker's order for the status.
            for (var i = 0; i < change.Partitions.Count; i++)
            {
                if (_partitions.TryGetValue(change.Partitions[i], out var entry))
                {
                    entry.Order = i;
                }
            }
        }

        foreach (var partition in change.Removed)
        {
            Partition? entry;
            lock (_partitions)
            {
                if (!_partitions.Remove(partition, out entry))
                {
                    continue;
                }
            }

            // Like a shutdown of this worker alone: in-flight handlers finish, the processed offset is stored.
            if (entry.Stop is not null)
            {
                await entry.Stop.CancelAsync().ConfigureAwait(false);
            }

            await (entry.Run ?? Task.CompletedTask).ConfigureAwait(false);
            var last = entry.Worker.GetStatus().LastProcessedOffset;
            entry.Worker.Dispose();
            entry.Stop?.Dispose();
            Log.SuperStreamPartitionRemoved(_services.Logger, _registration.HandlerType.Name, _options.Stream, partition, last);
        }
    }

    public void Dispose()
    {
        lock (_partitions)
        {
            foreach (var entry in _partitions.Values)
            {
                entry.Worker.Dispose();
                entry.Stop?.Dispose();
            }

            _partitions.Clear();
        }
    }

    /// <summary>A partition's worker; its run starts with <see cref="RunAsync"/> (or at once for a partition added later).</summary>
    private sealed class Partition(ConsumerWorker worker, int order)
    {
        public ConsumerWorker Worker { get; } = worker;

        public int Order { get; set; } = order;

        public CancellationTokenSource? Stop { get; set; }

        public Task? Run { get; set; }
    }
}
