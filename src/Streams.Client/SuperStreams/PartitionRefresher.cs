using Microsoft.Extensions.Logging;

namespace Streams.Client.SuperStreams;

/// <summary>Re-reads the partitions of a super stream periodically and reports the new list when it changed.</summary>
internal sealed class PartitionRefresher : IAsyncDisposable
{
    private readonly StreamSystem _system;
    private readonly string _superStream;
    private readonly Func<IReadOnlyList<string>, CancellationToken, Task> _onChanged;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly ITimer _timer;
    private IReadOnlyList<string> _known;
    private Task _running = Task.CompletedTask;
    private int _busy;

    public PartitionRefresher(StreamSystem system, string superStream, IReadOnlyList<string> initial, TimeSpan interval, TimeProvider timeProvider,
        Func<IReadOnlyList<string>, CancellationToken, Task> onChanged, ILogger logger)
    {
        _system = system;
        _superStream = superStream;
        _known = initial;
        _onChanged = onChanged;
        _logger = logger;
        _timer = timeProvider.CreateTimer(_ => Tick(), null, interval, interval);
    }

    private void Tick()
    {
        if (_stop.IsCancellationRequested || Interlocked.Exchange(ref _busy, 1) == 1)
        {
            return;
        }

        _running = RefreshAsync();
    }

    /// <summary>Runs one refresh now (also used by tests).</summary>
    public async Task RefreshAsync()
    {
        try
        {
            var partitions = await _system.QueryPartitionsAsync(_superStream, _stop.Token).ConfigureAwait(false);
            if (partitions.Count > 0 && !partitions.SequenceEqual(_known, StringComparer.Ordinal))
            {
                SuperStreamLog.PartitionsChanged(_logger, _superStream, partitions);
                await _onChanged(partitions, _stop.Token).ConfigureAwait(false);
                _known = partitions;
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (ObjectDisposedException)
        {
            // The stream system was disposed.
        }
        catch (Exception ex) when (ex is StreamClientException or IOException or System.Net.Sockets.SocketException)
        {
            SuperStreamLog.RefreshFailed(_logger, _superStream, ex);
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _timer.DisposeAsync().ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        await _running.ConfigureAwait(false);
        _stop.Dispose();
    }
}
