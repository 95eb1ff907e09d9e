using Streams.Client;

namespace Streams.Cli.Inspection;

/// <summary>
/// Counts the messages of a stream up to its end by reading them (no decoding). The broker's statistics give chunk
/// ids only, and offsets are not a count: each stored offset (offset tracking) takes an offset of its own.
/// </summary>
internal static class MessageCounter
{
    /// <summary>
    /// The number of messages from <paramref name="firstOffset"/> (the first retained one, or after a stored offset)
    /// through <paramref name="end"/>, reading at most <paramref name="limit"/> offsets: null when the range spans more
    /// (the count is then not taken).
    /// </summary>
    public static async Task<long?> CountAsync(StreamSystem system, string stream, ulong firstOffset, StreamEnd end, long limit, CancellationToken cancellationToken)
    {
        if (end.LastOffset < firstOffset || end.LastOffset - firstOffset >= (ulong)limit)
        {
            return end.LastOffset < firstOffset ? 0 : null;
        }

        long count = 0;
        await using var consumer = await system.CreateConsumerAsync(new ConsumerOptions(stream) { Offset = OffsetSpecification.Offset(firstOffset) }, cancellationToken).ConfigureAwait(false);
        await foreach (var delivery in consumer.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (delivery.Offset < firstOffset)
            {
                // A chunk is delivered whole: its records before the start are not counted.
                continue;
            }

            if (delivery.Offset > end.LastOffset)
            {
                break;
            }

            count++;
            if (delivery.Offset == end.LastOffset)
            {
                break;
            }
        }

        return count;
    }
}
