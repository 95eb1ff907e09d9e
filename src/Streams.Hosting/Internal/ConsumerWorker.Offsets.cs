using Streams.Client;

namespace Streams.Hosting.Internal;

/// <summary>Offsets: counting processed messages and storing the last one every N messages, every T and at the end.</summary>
internal sealed partial class ConsumerWorker
{
    /// <summary>Messages processed since the last stored offset.</summary>
    private long Uncommitted => Volatile.Read(ref _processedCount) - Volatile.Read(ref _committedCount);

    private void MarkProcessed(ulong offset, int count)
    {
        // Single writer (the processing loop); readers use Interlocked.Read.
        Volatile.Write(ref _lastProcessed, (long)offset);
        Volatile.Write(ref _processedCount, _processedCount + count);
    }

    /// <summary>Stores the offset every CommitInterval while a subscription is read (named consumers only).</summary>
    private ITimer? StartCommitTimer() => _options.Name is null
        ? null
        : _services.Time.CreateTimer(static s => ((ConsumerWorker)s!).CommitFromTimer(), this, _commitInterval, _commitInterval);

    private void CommitFromTimer()
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
    private async Task CommitAsync()
    {
        if (_options.Name is not { } name)
        {
            return;
        }

        await _commitGate.WaitAsync().ConfigureAwait(false);
        long processed = Volatile.Read(ref _processedCount);
        long last = Interlocked.Read(ref _lastProcessed);
        try
        {
            if (last < 0 || last <= Interlocked.Read(ref _lastStored))
            {
                return;
            }

            using var timeout = new CancellationTokenSource(_services.Options.Value.RequestTimeout, _services.Time);
            var system = await _services.Systems.GetAsync(timeout.Token).ConfigureAwait(false);
            await StoreOffsetAsync(system, name, (ulong)last, timeout.Token).ConfigureAwait(false);
            Interlocked.Exchange(ref _lastStored, last);
            Volatile.Write(ref _committedCount, processed);
            Log.OffsetStored(_services.Logger, name, _source, (ulong)last);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.OffsetStoreFailed(_services.Logger, name, _source, (ulong)last, ex);
        }
        finally
        {
            _commitGate.Release();
        }
    }

    /// <summary>Stores an offset inside a <c>settle</c> span.</summary>
    private async Task StoreOffsetAsync(StreamSystem system, string name, ulong offset, CancellationToken cancellationToken)
    {
        var settle = _telemetry.StartSettle(offset);
        var start = _services.Time.GetTimestamp();
        try
        {
            await system.StoreOffsetAsync(name, _source, offset, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _telemetry.Settled(settle, start, ex);
            throw;
        }

        _telemetry.Settled(settle, start, null);
    }
}
