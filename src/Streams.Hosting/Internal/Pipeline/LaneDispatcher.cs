using System.Threading.Channels;

namespace Streams.Hosting.Internal.Pipeline;

/// <summary>
/// The lane stage: up to MaxConcurrency handlers at once. Messages with the same AMQP group-id go to the same lane
/// (kept in order), messages without one are spread over the lanes round-robin. The committed offset is the
/// <see cref="OffsetWatermark"/> below the oldest message not finished yet.
/// </summary>
internal sealed class LaneDispatcher
{
    private const int LaneCapacity = 8;

    private readonly int _laneCount;
    private readonly Func<DeliveryItem, CancellationToken, CancellationToken, Task> _handle;
    private readonly OffsetCommitter _committer;
    private readonly Control.PauseGate? _gate;
    private int _spread;

    /// <param name="laneCount">The lanes (MaxConcurrency, at least 2).</param>
    /// <param name="handle">Handles one item (item, the lanes' stop token, the abort token).</param>
    /// <param name="committer">Marks the watermark processed and commits when due.</param>
    /// <param name="gate">Where each lane waits while the consumer is paused (none: never paused).</param>
    public LaneDispatcher(int laneCount, Func<DeliveryItem, CancellationToken, CancellationToken, Task> handle, OffsetCommitter committer, Control.PauseGate? gate = null)
    {
        _gate = gate;
        ArgumentOutOfRangeException.ThrowIfLessThan(laneCount, 1);
        _laneCount = laneCount;
        _handle = handle;
        _committer = committer;
    }

    /// <summary>The lane of a message: by its group id, else the next one round-robin.</summary>
    public int SelectLane(string? groupId) => groupId is null
        ? (int)((uint)_spread++ % (uint)_laneCount)
        : (int)((uint)StringComparer.Ordinal.GetHashCode(groupId) % (uint)_laneCount);

    /// <summary>
    /// Distributes <paramref name="items"/> until they end, <paramref name="stopping"/> is signalled or a lane stops
    /// the consumer (<see cref="ConsumerStoppedException"/>, rethrown); in-flight handlers finish first.
    /// </summary>
    public async Task RunAsync(IAsyncEnumerable<DeliveryItem> items, CancellationToken stopping, CancellationToken abort)
    {
        var watermark = new OffsetWatermark();
        using var halt = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var lanes = new Channel<DeliveryItem>[_laneCount];
        var tasks = new Task[_laneCount];
        for (var i = 0; i < _laneCount; i++)
        {
            var lane = lanes[i] = Channel.CreateBounded<DeliveryItem>(new BoundedChannelOptions(LaneCapacity) { SingleReader = true, SingleWriter = true });
            tasks[i] = Task.Run(() => RunLaneAsync(lane.Reader, watermark, halt, abort), CancellationToken.None);
        }

        Exception? readError = null;
        try
        {
            await foreach (var item in items.WithCancellation(halt.Token).ConfigureAwait(false))
            {
                var index = SelectLane(item.Message?.Properties?.GroupId);
                watermark.Add(item.Offset);
                await lanes[index].Writer.WriteAsync(item, halt.Token).ConfigureAwait(false);
                if (_committer.IsDue)
                {
                    await _committer.CommitAsync().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (halt.IsCancellationRequested)
        {
            // Stopping, or a lane stopped the consumer.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            readError = ex;
        }
        finally
        {
            await halt.CancelAsync().ConfigureAwait(false);
            foreach (var lane in lanes)
            {
                lane.Writer.TryComplete();
            }

            try
            {
                await Task.WhenAll(tasks).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Inspected below.
            }
        }

        var stopped = tasks.Select(t => t.Exception?.InnerException).OfType<ConsumerStoppedException>().FirstOrDefault();
        if (stopped is not null)
        {
            throw stopped;
        }

        if (tasks.Select(t => t.Exception?.InnerException).FirstOrDefault(e => e is not null and not OperationCanceledException) is { } laneError)
        {
            throw laneError;
        }

        if (readError is not null)
        {
            throw readError;
        }
    }

    private async Task RunLaneAsync(ChannelReader<DeliveryItem> lane, OffsetWatermark watermark, CancellationTokenSource halt, CancellationToken abort)
    {
        try
        {
            while (await lane.WaitToReadAsync(halt.Token).ConfigureAwait(false))
            {
                while (!halt.IsCancellationRequested && lane.TryRead(out var item))
                {
                    if (_gate is not null)
                    {
                        await _gate.EnterAsync(halt.Token).ConfigureAwait(false);
                    }

                    await _handle(item, halt.Token, abort).ConfigureAwait(false);
                    _committer.MarkProcessedConcurrently(watermark.Complete(item.Offset));
                    _gate?.Exit();
                }
            }
        }
        catch (ConsumerStoppedException)
        {
            await halt.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }
}
