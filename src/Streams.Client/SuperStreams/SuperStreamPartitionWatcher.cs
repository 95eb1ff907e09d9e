using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Client.SuperStreams;

namespace Streams.Client;

/// <summary>
/// Re-reads the partitions of a super stream every <see cref="Interval"/> (on a <see cref="TimeProvider"/> timer) and
/// calls its change callback when partitions were added or removed. The callback runs one at a time, never
/// concurrently with another refresh; when it throws (or the query fails), the change is logged and offered again on
/// the next refresh (the known list moves on only once the callback succeeded). An empty answer (the super stream
/// itself was deleted) is not a change: the partitions' own consumers and producers see their streams deleted.
/// </summary>
public sealed class SuperStreamPartitionWatcher : IAsyncDisposable
{
    private readonly ISuperStreamTopology _topology;
    private readonly Func<SuperStreamPartitionsChangedEventArgs, CancellationToken, Task> _onChanged;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private readonly ITimer _timer;
    private IReadOnlyList<string> _known;
    private int _disposed;

    /// <summary>Starts watching; the first refresh runs after <paramref name="interval"/>.</summary>
    /// <param name="topology">Where the partitions are read (a <see cref="StreamSystem"/>).</param>
    /// <param name="superStream">The super stream.</param>
    /// <param name="partitions">The partitions known now (what the first refresh compares with).</param>
    /// <param name="interval">How often the partitions are re-read (positive; <see cref="Timeout.InfiniteTimeSpan"/>: only by <see cref="RefreshAsync"/>).</param>
    /// <param name="onChanged">Called with each change; its token is cancelled when the watcher is disposed.</param>
    /// <param name="timeProvider">The clock (default <see cref="TimeProvider.System"/>).</param>
    /// <param name="logger">Logs changes and failed refreshes (default none).</param>
    public SuperStreamPartitionWatcher(
        ISuperStreamTopology topology,
        string superStream,
        IReadOnlyList<string> partitions,
        TimeSpan interval,
        Func<SuperStreamPartitionsChangedEventArgs, CancellationToken, Task> onChanged,
        TimeProvider? timeProvider = null,
        ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentException.ThrowIfNullOrWhiteSpace(superStream);
        ArgumentNullException.ThrowIfNull(partitions);
        ArgumentNullException.ThrowIfNull(onChanged);
        if (interval <= TimeSpan.Zero && interval != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "The partition refresh interval must be positive (or Timeout.InfiniteTimeSpan: only explicit refreshes).");
        }

        _topology = topology;
        SuperStream = superStream;
        Interval = interval;
        _known = [.. partitions];
        _onChanged = onChanged;
        _logger = logger ?? NullLogger.Instance;
        _timer = (timeProvider ?? TimeProvider.System).CreateTimer(static s => ((SuperStreamPartitionWatcher)s!).Tick(), this, interval, interval);
    }

    /// <summary>The super stream.</summary>
    public string SuperStream { get; }

    /// <summary>How often the partitions are re-read.</summary>
    public TimeSpan Interval { get; }

    /// <summary>The partitions as of the last applied change, in order.</summary>
    public IReadOnlyList<string> Partitions => Volatile.Read(ref _known);

    private void Tick()
    {
        if (Volatile.Read(ref _disposed) != 0 || !_refreshing.Wait(0))
        {
            // Disposed, or the previous refresh is still running: this tick is skipped.
            return;
        }

        _ = RefreshOnTimerAsync();
    }

    private async Task RefreshOnTimerAsync()
    {
        try
        {
            await RefreshCoreAsync(_stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (ObjectDisposedException) when (Volatile.Read(ref _disposed) != 0)
        {
            // Disposed while the query ran.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The query failed (connection lost, timeout) or the callback did: offered again on the next tick.
            SuperStreamLog.RefreshFailed(_logger, SuperStream, ex);
        }
        finally
        {
            _refreshing.Release();
        }
    }

    /// <summary>Re-reads the partitions now (waiting for a refresh in progress) and applies a change; true when there was one.</summary>
    /// <param name="cancellationToken">Cancels the query and the wait.</param>
    /// <exception cref="ObjectDisposedException">The watcher was disposed.</exception>
    public async Task<bool> RefreshAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        await _refreshing.WaitAsync(linked.Token).ConfigureAwait(false);
        try
        {
            return await RefreshCoreAsync(linked.Token).ConfigureAwait(false);
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private async Task<bool> RefreshCoreAsync(CancellationToken cancellationToken)
    {
        var partitions = await _topology.QueryPartitionsAsync(SuperStream, cancellationToken).ConfigureAwait(false);
        var known = Volatile.Read(ref _known);
        if (partitions.Count == 0 || partitions.SequenceEqual(known, StringComparer.Ordinal))
        {
            return false;
        }

        var change = new SuperStreamPartitionsChangedEventArgs(SuperStream, known, [.. partitions]);
        SuperStreamLog.PartitionsChanged(_logger, SuperStream, change.Partitions, change.Added, change.Removed);
        await _onChanged(change, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _known, change.Partitions);
        return true;
    }

    /// <summary>Stops the timer and waits for a refresh in progress (its callback sees its token cancelled).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _timer.DisposeAsync().ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        await _refreshing.WaitAsync().ConfigureAwait(false);
        _refreshing.Release();
        _stop.Dispose();
    }
}
