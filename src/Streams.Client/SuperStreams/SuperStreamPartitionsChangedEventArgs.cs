namespace Streams.Client;

/// <summary>The partition list of a super stream changed: partitions were bound to its exchange, or unbound (or deleted).</summary>
public sealed class SuperStreamPartitionsChangedEventArgs : EventArgs
{
    /// <summary>Creates the change from the previous and the new partition list.</summary>
    /// <param name="superStream">The super stream.</param>
    /// <param name="previous">The partitions known before.</param>
    /// <param name="partitions">The partitions now, in order.</param>
    public SuperStreamPartitionsChangedEventArgs(string superStream, IReadOnlyList<string> previous, IReadOnlyList<string> partitions)
    {
        ArgumentException.ThrowIfNullOrEmpty(superStream);
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(partitions);
        SuperStream = superStream;
        Partitions = partitions;
        Added = [.. partitions.Except(previous, StringComparer.Ordinal)];
        Removed = [.. previous.Except(partitions, StringComparer.Ordinal)];
    }

    /// <summary>The super stream.</summary>
    public string SuperStream { get; }

    /// <summary>The partitions now, in <c>x-stream-partition-order</c>.</summary>
    public IReadOnlyList<string> Partitions { get; }

    /// <summary>The partitions that were not there before.</summary>
    public IReadOnlyList<string> Added { get; }

    /// <summary>The partitions that are gone (unbound from the super stream's exchange, or deleted).</summary>
    public IReadOnlyList<string> Removed { get; }
}
