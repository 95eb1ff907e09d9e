namespace Streams.Client;

/// <summary>The last message of a stream when it was probed: its offset, and the id and timestamp of its chunk.</summary>
/// <param name="LastOffset">The offset of the last message.</param>
/// <param name="ChunkId">The id (first offset) of the chunk holding it.</param>
/// <param name="ChunkTimestamp">When that chunk was written.</param>
public sealed record StreamEnd(ulong LastOffset, ulong ChunkId, DateTimeOffset ChunkTimestamp)
{
    /// <summary>How long the probe waits for the broker to deliver the last chunk before it gives up.</summary>
    public static readonly TimeSpan DefaultProbeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Finds the last message of <paramref name="stream"/>, or null when it holds none. The broker's statistics give
    /// chunk ids only (a chunk id is the offset of the chunk's first record, and offset-storage chunks take offsets
    /// too), so the probe subscribes at <see cref="OffsetSpecification.Last"/> (the last message chunk) and reads it
    /// through: the last record of that chunk is the end.
    /// </summary>
    /// <remarks>
    /// A chunk's end is seen without its header (not public in the client): <see cref="Consumer.ReadAllAsync"/> yields
    /// the records of a chunk it holds without waiting, so the first <c>MoveNextAsync</c> that does not complete at
    /// once, or that yields another chunk, comes after the chunk's last record. A committed chunk id with no message
    /// chunk (a stream holding only stored offsets) is found by the timeout: then the stream holds no message.
    /// </remarks>
    /// <exception cref="StreamDoesNotExistException">The stream does not exist.</exception>
    public static async Task<StreamEnd?> ProbeAsync(StreamSystem system, string stream, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentException.ThrowIfNullOrEmpty(stream);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        var statistics = await system.GetStreamStatisticsAsync(stream, cancellationToken).ConfigureAwait(false);
        if (statistics.CommittedChunkId is null)
        {
            return null;
        }

        var consumer = await system.CreateConsumerAsync(
            new ConsumerOptions(stream) { Offset = OffsetSpecification.Last, InitialCredits = 1 }, cancellationToken).ConfigureAwait(false);
        await using var disposeConsumer = consumer.ConfigureAwait(false);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var enumerator = consumer.ReadAllAsync(stop.Token).GetAsyncEnumerator(stop.Token);
        ValueTask<bool> pending = default;
        try
        {
            var firstMove = enumerator.MoveNextAsync().AsTask();
            pending = new ValueTask<bool>(firstMove);
            try
            {
                if (!await firstMove.WaitAsync(timeout, cancellationToken).ConfigureAwait(false))
                {
                    return null;
                }
            }
            catch (TimeoutException)
            {
                return null;
            }

            pending = default;
            var chunkId = enumerator.Current.ChunkId;
            var timestamp = enumerator.Current.Timestamp;
            var last = enumerator.Current.Offset;
            while (true)
            {
                var next = enumerator.MoveNextAsync();
                if (!next.IsCompleted)
                {
                    pending = next;
                    break;
                }

                if (!next.Result || enumerator.Current.ChunkId != chunkId)
                {
                    break;
                }

                last = enumerator.Current.Offset;
            }

            return new StreamEnd(last, chunkId, timestamp);
        }
        finally
        {
            // An async iterator cannot be disposed while a MoveNextAsync is in flight: end it first.
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await pending.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            await enumerator.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Whether a consumer starting at <paramref name="start"/> has nothing to read up to this end.</summary>
    public bool StartsAfter(OffsetSpecification start) => start.Type switch
    {
        OffsetType.Next => true,
        OffsetType.Offset => start.OffsetValue > LastOffset,
        // The broker starts at the first chunk written at or after the time: none when it is after the last chunk.
        OffsetType.Timestamp => start.Value > ChunkTimestamp.ToUnixTimeMilliseconds(),
        _ => false,
    };
}
