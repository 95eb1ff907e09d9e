using Microsoft.Extensions.Logging;
using Streams.Hosting.Internal.Backend;
using Streams.Hosting.Telemetry;

namespace Streams.Hosting.Internal.Pipeline;

/// <summary>
/// The commit stage of one named consumer: counts processed messages and stores the offset of the last one every
/// N messages (<see cref="IsDue"/>), every T (<see cref="StartTimer"/>) and at the end; an anonymous consumer stores
/// nothing. Storing never throws (a failure is logged, the next commit tries again).
/// </summary>
internal sealed class OffsetCommitter : IDisposable
{
    private readonly IStreamsBackend _backend;
    private readonly string? _name;
    private readonly string _stream;
    private readonly int _commitEvery;
    private readonly TimeSpan _commitInterval;
    private readonly TimeSpan _requestTimeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConsumerTelemetry? _telemetry;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _lastProcessed = -1;
    private long _lastStored = -1;
    private long _processedCount;
    private long _committedCount;
    private bool _disposed;
    private volatile bool _suspended;
    private Action<ulong>? _storedOffsetChanged;

    public OffsetCommitter(IStreamsBackend backend, string? name, string stream, int commitEvery, TimeSpan commitInterval, TimeSpan requestTimeout, TimeProvider time, ILogger logger, ConsumerTelemetry? telemetry)
    {
        _backend = backend;
        _name = name;
        _stream = stream;
        _commitEvery = commitEvery;
        _commitInterval = commitInterval;
        _requestTimeout = requestTimeout;
        _time = time;
        _logger = logger;
        _telemetry = telemetry;
    }

    /// <summary>The offset of the last processed message; -1 when none.</summary>
    public long LastProcessed => Interlocked.Read(ref _lastProcessed);

    /// <summary>The last offset stored (or found stored at subscription); -1 when none.</summary>
    public long LastStored => Interlocked.Read(ref _lastStored);

    /// <summary>Messages processed since the last stored offset.</summary>
    public long Uncommitted => Volatile.Read(ref _processedCount) - Volatile.Read(ref _committedCount);

    /// <summary>Enough messages were processed since the last store (CommitEveryMessages).</summary>
    public bool IsDue => Uncommitted >= _commitEvery;

    /// <summary>Marks <paramref name="count"/> messages processed up to <paramref name="offset"/>: a single writer (the in-order read loop).</summary>
    public void MarkProcessed(ulong offset, int count)
    {
        // Single writer; readers use Interlocked.Read.
        Volatile.Write(ref _lastProcessed, (long)offset);
        Volatile.Write(ref _processedCount, _processedCount + count);
    }

    /// <summary>Marks one message processed by a lane; <paramref name="watermark"/> is the offset below which all are done (-1 when none).</summary>
    public void MarkProcessedConcurrently(long watermark)
    {
        if (watermark >= 0)
        {
            long current;
            while ((current = Interlocked.Read(ref _lastProcessed)) < watermark && Interlocked.CompareExchange(ref _lastProcessed, watermark, current) != current)
            {
            }
        }

        Interlocked.Increment(ref _processedCount);
    }

    /// <summary>
    /// Single active consumer: before each store, the stored offset is read back; when someone else moved it (a rewind
    /// issued on another instance, or <c>streams offsets set</c>): below the last one this committer stored, or past the
    /// last processed message, nothing is stored any more (<see cref="ResetAsync"/> starts again) and
    /// <paramref name="changed"/> is called with the stored offset found. A value between the two is what the group's
    /// previous active member stored before this one took over (it resumed after it): not a rewind.
    /// </summary>
    public void WatchStoredOffset(Action<ulong> changed) => _storedOffsetChanged = changed;

    /// <summary>No commit stores anything until <see cref="ResetAsync"/> or <see cref="Unsuspend"/> (a rewind is under way).</summary>
    public void Suspend() => _suspended = true;

    /// <summary>Commits store again, from where they were (a rewind failed).</summary>
    public void Unsuspend() => _suspended = false;

    /// <summary>
    /// After a rewind: the consumer goes on after <paramref name="stored"/> (-1: from the start), which is what the
    /// broker has stored now (or, for -1, nothing before the first message); commits store again.
    /// </summary>
    public async Task ResetAsync(long stored)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            Interlocked.Exchange(ref _lastProcessed, stored);
            Interlocked.Exchange(ref _lastStored, stored);
            Volatile.Write(ref _committedCount, Volatile.Read(ref _processedCount));
            _suspended = false;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The offset found stored when subscribing (so that it is not stored again).</summary>
    public void SetStored(ulong offset) => Interlocked.Exchange(ref _lastStored, (long)offset);

    /// <summary>Stores the offset every CommitInterval while a subscription is read (named consumers only).</summary>
    public ITimer? StartTimer() => _name is null
        ? null
        : _time.CreateTimer(static s => ((OffsetCommitter)s!).CommitInBackground(), this, _commitInterval, _commitInterval);

    /// <summary>Starts a commit without waiting for it (timer, host stopping).</summary>
    public void CommitInBackground()
    {
        if (Volatile.Read(ref _disposed))
        {
            return;
        }

        _ = CommitAsync().ContinueWith(
            static t => _ = t.Exception, // Only an ObjectDisposedException at shutdown can get here.
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Stores the last processed offset when it moved (named consumers only). Never throws.</summary>
    public async Task CommitAsync()
    {
        if (_name is not { } name)
        {
            return;
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        long processed = Volatile.Read(ref _processedCount);
        long last = Interlocked.Read(ref _lastProcessed);
        try
        {
            long stored = Interlocked.Read(ref _lastStored);
            if (_suspended || last < 0 || last <= stored)
            {
                return;
            }

            using var timeout = new CancellationTokenSource(_requestTimeout, _time);
            if (_storedOffsetChanged is { } changed && stored >= 0
                && await _backend.QueryOffsetAsync(name, _stream, timeout.Token).ConfigureAwait(false) is { } found
                && (found < (ulong)stored || found > (ulong)last))
            {
                _suspended = true;
                Log.StoredOffsetChanged(_logger, name, _stream, found, (ulong)stored);
                changed(found);
                return;
            }

            await StoreAsync(name, (ulong)last, timeout.Token).ConfigureAwait(false);
            Interlocked.Exchange(ref _lastStored, last);
            Volatile.Write(ref _committedCount, processed);
            Log.OffsetStored(_logger, name, _stream, (ulong)last);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.OffsetStoreFailed(_logger, name, _stream, (ulong)last, ex);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        _gate.Dispose();
    }

    /// <summary>Stores an offset inside a <c>settle</c> span.</summary>
    private async Task StoreAsync(string name, ulong offset, CancellationToken cancellationToken)
    {
        var settle = _telemetry?.StartSettle(offset);
        var start = _time.GetTimestamp();
        try
        {
            await _backend.StoreOffsetAsync(name, _stream, offset, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _telemetry?.Settled(settle, start, ex);
            throw;
        }

        _telemetry?.Settled(settle, start, null);
    }
}
