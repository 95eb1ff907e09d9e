using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Streams.Client;

namespace Streams.Hosting.Internal;

/// <summary>Reading: the subscription loops (in order, batches, lanes) and turning deliveries into items.</summary>
internal sealed partial class ConsumerWorker
{
    /// <summary>
    /// The client-side re-check of broker filtering (Bloom filters let other values through), by the client's
    /// convention (<see cref="StreamFilter"/>). A message that does not match is counted and logged here (once per
    /// message: every path calls this once per item); an undecodable entry always goes on, to the failure policy.
    /// </summary>
    private bool Matches(in Item item)
    {
        if (_options.FilterValues is not { Count: > 0 } filters || item.Undecodable is not null)
        {
            return true;
        }

        // A body alone carries no filter value.
        if (item.Message is { } message ? StreamFilter.Matches(message, filters, _options.MatchUnfiltered) : _options.MatchUnfiltered)
        {
            return true;
        }

        Dropped(item, filters);
        return false;
    }

    /// <summary>Counts (<c>rabbitmq.stream.consumer.filtered</c>, <see cref="StreamConsumerStatus.FilteredCount"/>) and logs a message the filter dropped.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Dropped(in Item item, IReadOnlyList<string> filters)
    {
        _telemetry.CountFiltered();
        if (_services.Logger.IsEnabled(LogLevel.Debug))
        {
            var value = item.Message is { } message ? StreamFilter.GetValue(message) : null;
            Log.MessageFiltered(_services.Logger, _handlerName, _source, item.Offset, value, string.Join(", ", filters), _options.MatchUnfiltered);
        }
    }

    private ValueTask EnqueueAsync(ChannelWriter<Item> writer, Delivery delivery, CancellationToken cancellationToken)
    {
        var item = ToItem(delivery);
        if (!Matches(item))
        {
            // Still goes through the channel so that the offset watermark moves past it.
            item = item with { Filtered = true };
        }

        return writer.TryWrite(item) ? ValueTask.CompletedTask : writer.WriteAsync(item, cancellationToken);
    }

    /// <summary>
    /// Detaches a delivery from the client's buffer (only valid until the client moves on). An entry that is one data
    /// section and nothing else (a message made of a body alone) keeps only a copy of its body: no message is decoded
    /// or built unless something reads it. An entry that is not AMQP 1.0 by the client's rule
    /// (<see cref="Message.DetectFormat"/>; written by a raw producer such as rstream's binary codec) is the copy of
    /// its bytes as the body, with the client's raw message around it (<see cref="RawEntry"/>). Any other entry is decoded.
    /// </summary>
    /// <remarks>Inlined into the per-message step (no exception handling here: <see cref="TryDecode"/> has it).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Item ToItem(in Delivery delivery)
    {
        var entry = delivery.Body;
        var span = entry.Span;
        if (Message.TryGetBareBody(span, out var start, out var length))
        {
            return new Item(delivery.Offset, delivery.ChunkId, delivery.Timestamp, null, span.Slice(start, length).ToArray(), null);
        }

        if (!Message.LooksLikeAmqp(span))
        {
            return RawEntry(delivery);
        }

        return TryDecode(entry, out var message, out var error)
            ? new Item(delivery.Offset, delivery.ChunkId, delivery.Timestamp, message, null, null)
            : new Item(delivery.Offset, delivery.ChunkId, delivery.Timestamp, null, null, new Undecodable(span.ToArray(), error));
    }

    /// <summary>
    /// An entry that is not AMQP 1.0: a <c>byte[]</c> handler gets the copy of its bytes as it is (<see cref="Item.Body"/>),
    /// any other handler and <see cref="StreamContext.RawMessage"/> the client's lenient decoding of it (the same
    /// array as its body, <see cref="Message.Format"/> <see cref="EntryFormat.Raw"/>). Out of line: entries of other
    /// clients than raw producers never come here.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Item RawEntry(in Delivery delivery)
    {
        var body = delivery.Body.ToArray();
        return new Item(delivery.Offset, delivery.ChunkId, delivery.Timestamp, Message.DecodeEntry(body), body, null);
    }

    /// <summary>Decodes in place, then copies only the body out of the client's buffer (not the whole entry).</summary>
    private static bool TryDecode(ReadOnlyMemory<byte> entry, [NotNullWhen(true)] out Message? message, [NotNullWhen(false)] out Exception? error)
    {
        try
        {
            message = Message.Decode(entry);
            message.CopyBody();
            error = null;
            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            message = null;
            error = ex;
            return false;
        }
    }

    private async Task ProcessSequentiallyAsync(Consumer consumer, CancellationToken stopping, CancellationToken abort)
    {
        using var timer = StartCommitTimer();
        await foreach (var delivery in consumer.ReadAllAsync(stopping).ConfigureAwait(false))
        {
            // Only the offset lives across the await: the common, synchronous case stores nothing in the state machine.
            var offset = delivery.Offset;
            var handled = HandleDelivery(delivery, stopping, abort);
            if (!handled.IsCompletedSuccessfully)
            {
                await handled.ConfigureAwait(false);
            }

            MarkProcessed(offset, 1);
            if (Uncommitted >= _commitEvery)
            {
                await CommitAsync().ConfigureAwait(false);
            }

            // Buffered messages are yielded without looking at the token: stop after the message in hand.
            stopping.ThrowIfCancellationRequested();
        }

        stopping.ThrowIfCancellationRequested();
        throw new StreamClientException($"The consumer of stream '{_source}' ended.");
    }

    /// <remarks>
    /// Not inlined into the read loop on purpose: that loop rarely returns (messages are buffered), so its state
    /// machine keeps running the code it was entered with (an on-stack-replacement version); a separate method is
    /// called per message and gets fully optimized with profile data.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Task HandleDelivery(in Delivery delivery, CancellationToken stopping, CancellationToken abort)
    {
        var item = ToItem(delivery);
        return Matches(item) ? HandleOneAsync(item, stopping, abort) : Task.CompletedTask;
    }

    /// <summary>
    /// Batches in order, read straight from the client: the messages of one chunk (at most MaxBatchSize) go to the
    /// handler together. A batch is handed over when the chunk changes, when it is full, or as soon as the client has
    /// nothing more buffered, so that no message waits for the next chunk.
    /// </summary>
    private async Task ProcessBatchesSequentiallyAsync(Consumer consumer, CancellationToken stopping, CancellationToken abort)
    {
        using var timer = StartCommitTimer();
        var batch = new List<Item>(_maxBatch);
        var deliveries = consumer.ReadAllAsync(stopping).GetAsyncEnumerator(stopping);
        var reading = false;
        try
        {
            while (true)
            {
                var next = deliveries.MoveNextAsync();
                reading = true;
                if (!next.IsCompleted && batch.Count > 0)
                {
                    await HandleBatchInOrderAsync(batch, stopping, abort).ConfigureAwait(false);
                }

                var more = await next.ConfigureAwait(false);
                reading = false;
                if (!more)
                {
                    break;
                }

                var delivery = deliveries.Current;
                if (batch.Count > 0 && (batch.Count == _maxBatch || batch[0].ChunkId != delivery.ChunkId))
                {
                    await HandleBatchInOrderAsync(batch, stopping, abort).ConfigureAwait(false);
                }

                var item = ToItem(delivery);
                batch.Add(Matches(item) ? item : item with { Filtered = true });
            }
        }
        finally
        {
            // A read still in flight (the handler failed meanwhile) ends when the consumer is disposed; an iterator
            // cannot be disposed while it is being read.
            if (!reading)
            {
                await deliveries.DisposeAsync().ConfigureAwait(false);
            }
        }

        if (batch.Count > 0)
        {
            await HandleBatchInOrderAsync(batch, stopping, abort).ConfigureAwait(false);
        }

        stopping.ThrowIfCancellationRequested();
        throw new StreamClientException($"The consumer of stream '{_source}' ended.");
    }

    private async Task HandleBatchInOrderAsync(List<Item> batch, CancellationToken stopping, CancellationToken abort)
    {
        // Stop after the batch in hand: messages read but not handled are not marked processed (nor stored).
        stopping.ThrowIfCancellationRequested();
        await HandleBatchAsync(batch, stopping, abort).ConfigureAwait(false);
        MarkProcessed(batch[^1].Offset, batch.Count);
        batch.Clear();
        if (Uncommitted >= _commitEvery)
        {
            await CommitAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Up to MaxConcurrency handlers at once: messages with the same AMQP group-id go to the same lane (kept in order),
    /// messages without one are spread over the lanes. The committed offset is the watermark below the oldest
    /// message not finished yet, so a restart never skips an unfinished message.
    /// </summary>
    private async Task ProcessConcurrentlyAsync(ChannelReader<Item> reader, CancellationToken stopping, CancellationToken abort)
    {
        using var timer = StartCommitTimer();
        var laneCount = _options.MaxConcurrency;
        var watermark = new OffsetWatermark();
        using var halt = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var lanes = new Channel<Item>[laneCount];
        var tasks = new Task[laneCount];
        for (var i = 0; i < laneCount; i++)
        {
            var lane = lanes[i] = Channel.CreateBounded<Item>(new BoundedChannelOptions(8) { SingleReader = true, SingleWriter = true });
            tasks[i] = Task.Run(() => RunLaneAsync(lane.Reader, watermark, halt, abort), CancellationToken.None);
        }

        Exception? readError = null;
        var spread = 0;
        try
        {
            while (true)
            {
                var item = await reader.ReadAsync(halt.Token).ConfigureAwait(false);
                var key = item.Message?.Properties?.GroupId;
                var index = key is null
                    ? (int)((uint)spread++ % (uint)laneCount)
                    : (int)((uint)StringComparer.Ordinal.GetHashCode(key) % (uint)laneCount);
                watermark.Add(item.Offset);
                await lanes[index].Writer.WriteAsync(item, halt.Token).ConfigureAwait(false);
                if (Uncommitted >= _commitEvery)
                {
                    await CommitAsync().ConfigureAwait(false);
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

        stopping.ThrowIfCancellationRequested();
    }

    private async Task RunLaneAsync(ChannelReader<Item> lane, OffsetWatermark watermark, CancellationTokenSource halt, CancellationToken abort)
    {
        try
        {
            while (await lane.WaitToReadAsync(halt.Token).ConfigureAwait(false))
            {
                while (!halt.IsCancellationRequested && lane.TryRead(out var item))
                {
                    await HandleOneAsync(item, halt.Token, abort).ConfigureAwait(false);
                    var done = watermark.Complete(item.Offset);
                    if (done >= 0)
                    {
                        InterlockedMax(ref _lastProcessed, done);
                    }

                    Interlocked.Increment(ref _processedCount);
                }
            }
        }
        catch (ConsumerStoppedException)
        {
            await halt.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while ((current = Interlocked.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    /// <summary>Offsets handed to lanes and not finished yet.</summary>
    private sealed class OffsetWatermark
    {
        private readonly SortedSet<ulong> _pending = [];
        private long _highest = -1;

        public void Add(ulong offset)
        {
            lock (_pending)
            {
                _pending.Add(offset);
                _highest = (long)offset;
            }
        }

        /// <summary>Marks <paramref name="offset"/> done; returns the highest offset below which everything is done (-1 when none).</summary>
        public long Complete(ulong offset)
        {
            lock (_pending)
            {
                _pending.Remove(offset);
                return _pending.Count == 0 ? _highest : (long)_pending.Min - 1;
            }
        }
    }
}
