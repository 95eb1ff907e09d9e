using Streams.Client;
using Streams.Hosting.Internal.Backend;

namespace Streams.Hosting.Internal.Control;

/// <summary>
/// Turns a <see cref="StreamRewindTarget"/> into the offset of the next message to handle on one stream, asking the
/// broker: the first and last chunks and a point in time are resolved by a short anonymous subscription from that
/// position (the broker's own resolution, the one a consumer subscribing there would get); an empty stream resolves
/// to 0, a point in time after the last chunk to the offset after the last message.
/// </summary>
internal sealed class RewindResolver
{
    /// <summary>How long the rest of a chunk may take to arrive after its first message (it is delivered as one frame).</summary>
    private static readonly TimeSpan ChunkQuiet = TimeSpan.FromMilliseconds(250);

    private readonly IStreamsBackend _backend;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;

    public RewindResolver(IStreamsBackend backend, TimeSpan timeout, TimeProvider time)
    {
        _backend = backend;
        _timeout = timeout;
        _time = time;
    }

    /// <summary>The offset of the first message the consumer handles after the rewind.</summary>
    public async Task<ulong> ResolveAsync(string stream, StreamRewindTarget target, CancellationToken cancellationToken)
    {
        if (target.Kind == StreamRewindKind.Offset)
        {
            return target.OffsetValue!.Value;
        }

        if (await _backend.QueryLastChunkIdAsync(stream, cancellationToken).ConfigureAwait(false) is null)
        {
            return 0; // Empty: every target is its start.
        }

        switch (target.Kind)
        {
            case StreamRewindKind.First:
                return (await ProbeAsync(stream, target, OffsetSpecification.First, wholeChunk: false, cancellationToken).ConfigureAwait(false)).First.Offset;
            case StreamRewindKind.Last:
                return (await ProbeAsync(stream, target, OffsetSpecification.Last, wholeChunk: false, cancellationToken).ConfigureAwait(false)).First.Offset;
            default:
                var when = target.TimestampValue!.Value;
                var last = await ProbeAsync(stream, target, OffsetSpecification.Last, wholeChunk: true, cancellationToken).ConfigureAwait(false);
                if (when.ToUnixTimeMilliseconds() > last.First.Timestamp.ToUnixTimeMilliseconds())
                {
                    // Later than the last chunk: the broker would attach at the end.
                    return last.Last.Offset + 1;
                }

                return (await ProbeAsync(stream, target, OffsetSpecification.Timestamp(when), wholeChunk: false, cancellationToken).ConfigureAwait(false)).First.Offset;
        }
    }

    /// <summary>The first delivery from <paramref name="start"/> (and, with <paramref name="wholeChunk"/>, the last one of its chunk).</summary>
    private async Task<(StreamDelivery First, StreamDelivery Last)> ProbeAsync(
        string stream, StreamRewindTarget target, OffsetSpecification start, bool wholeChunk, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(_timeout, _time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var options = new ConsumerOptions(stream) { Offset = start, ResumeFromStoredOffset = false };
        var source = await _backend.SubscribeAsync(options, timeout.Token).ConfigureAwait(false);
        await using (source.ConfigureAwait(false))
        {
            using var quiet = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
            using var reading = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, quiet.Token);
            var deliveries = source.ReadAllAsync(reading.Token).GetAsyncEnumerator(reading.Token);
            try
            {
                if (!await deliveries.MoveNextAsync().ConfigureAwait(false))
                {
                    throw new StreamClientException($"Resolving rewind target '{target}' on stream '{stream}': the subscription ended before a message arrived.");
                }

                var first = Copy(deliveries.Current);
                var last = first;
                while (wholeChunk)
                {
                    var next = deliveries.MoveNextAsync();
                    if (!next.IsCompleted)
                    {
                        quiet.CancelAfter(ChunkQuiet);
                    }

                    try
                    {
                        if (!await next.ConfigureAwait(false) || deliveries.Current.ChunkId != first.ChunkId)
                        {
                            break;
                        }
                    }
                    catch (OperationCanceledException) when (!timeout.IsCancellationRequested)
                    {
                        break; // Quiet: the chunk was read whole.
                    }

                    last = Copy(deliveries.Current);
                }

                return (first, last);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException(
                    $"Resolving rewind target '{target}' on stream '{stream}': no message arrived within {_timeout.TotalSeconds:0.#}s (RabbitStreams:RequestTimeout) from {start}.");
            }
            finally
            {
                try
                {
                    await deliveries.DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException)
                {
                    // A read cancelled mid-way: the subscription is disposed next.
                }
            }
        }
    }

    private static StreamDelivery Copy(StreamDelivery delivery) => delivery with { Body = ReadOnlyMemory<byte>.Empty };
}
