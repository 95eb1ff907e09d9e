using System.Globalization;
using Streams.Client;

namespace Streams.Cli.Inspection;

/// <summary>
/// Where a consumer name stands on one stream: its stored offset, the stream's last message, and the lag between them
/// (the messages after the stored offset, counted by reading them when they span at most the count limit in offsets;
/// else the offset distance, an upper bound, since stored offsets take offsets of their own).
/// </summary>
/// <param name="Stream">The stream (for a super stream, the partition).</param>
/// <param name="Name">The consumer name (offset tracking reference).</param>
/// <param name="StoredOffset">The stored offset, null when none is stored.</param>
/// <param name="LastOffset">The last message's offset, null when the stream holds none.</param>
/// <param name="Lag">The messages after <paramref name="StoredOffset"/>; null when nothing is stored (the start depends on the consumer's options).</param>
/// <param name="LagIsExact">False when <paramref name="Lag"/> is the offset distance (beyond the count limit).</param>
internal sealed record ConsumerPosition(string Stream, string Name, ulong? StoredOffset, ulong? LastOffset, long? Lag, bool LagIsExact)
{
    /// <summary>The lag for display: N, ~N (at most N: the offset distance), or - (nothing stored).</summary>
    public string LagText => Lag is not { } lag ? "-" : (LagIsExact ? string.Empty : "~") + lag.ToString(CultureInfo.InvariantCulture);

    /// <summary>The position of each of <paramref name="names"/> on each of <paramref name="streams"/>, streams first.</summary>
    public static async Task<IReadOnlyList<ConsumerPosition>> QueryAsync(
        StreamSystem system, IReadOnlyList<string> streams, IReadOnlyList<string> names, long countLimit, CancellationToken cancellationToken)
    {
        var positions = new List<ConsumerPosition>(streams.Count * names.Count);
        foreach (var stream in streams)
        {
            var end = await StreamEnd.ProbeAsync(system, stream, StreamEnd.DefaultProbeTimeout, cancellationToken).ConfigureAwait(false);
            foreach (var name in names)
            {
                var stored = await system.QueryOffsetAsync(name, stream, cancellationToken).ConfigureAwait(false);
                positions.Add(await OfAsync(system, stream, name, stored, end, countLimit, cancellationToken).ConfigureAwait(false));
            }
        }

        return positions;
    }

    private static async Task<ConsumerPosition> OfAsync(StreamSystem system, string stream, string name, ulong? stored, StreamEnd? end, long countLimit, CancellationToken cancellationToken)
    {
        if (stored is not { } offset)
        {
            return new ConsumerPosition(stream, name, null, end?.LastOffset, null, true);
        }

        if (end is null || offset >= end.LastOffset)
        {
            return new ConsumerPosition(stream, name, offset, end?.LastOffset, 0, true);
        }

        var counted = await MessageCounter.CountAsync(system, stream, offset + 1, end, countLimit, cancellationToken).ConfigureAwait(false);
        return counted is { } count
            ? new ConsumerPosition(stream, name, offset, end.LastOffset, count, true)
            : new ConsumerPosition(stream, name, offset, end.LastOffset, checked((long)(end.LastOffset - offset)), false);
    }
}
