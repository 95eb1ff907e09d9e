namespace Streams.Hosting.Internal.Pipeline;

/// <summary>
/// Offsets handed to lanes and not finished yet: the offset below which every message is done is what may be
/// committed, so that a restart never skips a message still in flight on a slower lane.
/// </summary>
internal sealed class OffsetWatermark
{
    private readonly SortedSet<ulong> _pending = [];
    private long _highest = -1;

    /// <summary>An offset handed to a lane (in increasing order).</summary>
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
