using System.Globalization;

namespace Streams.Client;

/// <summary>Where the leader of a new stream is placed.</summary>
public enum LeaderLocator
{
    /// <summary>On the node the client is connected to.</summary>
    ClientLocal,
    /// <summary>Balanced across the cluster.</summary>
    Balanced,
}

/// <summary>Retention and placement arguments of a new stream. Arguments cannot be changed after creation.</summary>
public sealed class StreamSpec
{
    /// <summary>The largest segment size the broker accepts.</summary>
    public const long MaxSegmentSizeLimit = 3_000_000_000;

    /// <summary>Retention by size (whole segments are removed); must be positive.</summary>
    public long? MaxLengthBytes { get; set; }

    /// <summary>Retention by age; a positive whole number of seconds.</summary>
    public TimeSpan? MaxAge { get; set; }

    /// <summary>Segment file size (default 500,000,000; at most 3,000,000,000).</summary>
    public long? MaxSegmentSizeBytes { get; set; }

    /// <summary>Number of replicas (leader included) at creation; must be positive.</summary>
    public int? InitialClusterSize { get; set; }

    /// <summary>Leader placement.</summary>
    public LeaderLocator? LeaderLocator { get; set; }

    /// <summary>Size of the per-chunk Bloom filter used by stream filtering (16–255).</summary>
    public int? FilterSizeBytes { get; set; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid property.</summary>
    public void Validate()
    {
        if (MaxLengthBytes is { } maxLength && maxLength <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxLengthBytes), maxLength, "MaxLengthBytes must be positive.");
        }

        if (MaxAge is { } maxAge && (maxAge < TimeSpan.FromSeconds(1) || maxAge.Ticks % TimeSpan.TicksPerSecond != 0))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAge), maxAge, "MaxAge must be a positive whole number of seconds (at least 1 s).");
        }

        if (MaxSegmentSizeBytes is { } segment && (segment <= 0 || segment > MaxSegmentSizeLimit))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxSegmentSizeBytes), segment, $"MaxSegmentSizeBytes must be between 1 and {MaxSegmentSizeLimit:N0}.");
        }

        if (InitialClusterSize is { } size && size <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(InitialClusterSize), size, "InitialClusterSize must be positive.");
        }

        if (LeaderLocator is { } locator && !Enum.IsDefined(locator))
        {
            throw new ArgumentOutOfRangeException(nameof(LeaderLocator), locator, "LeaderLocator must be ClientLocal or Balanced.");
        }

        if (FilterSizeBytes is { } filter && filter is < 16 or > 255)
        {
            throw new ArgumentOutOfRangeException(nameof(FilterSizeBytes), filter, "FilterSizeBytes must be between 16 and 255.");
        }
    }

    /// <summary>The Create arguments (validated).</summary>
    internal Dictionary<string, string> ToArguments()
    {
        Validate();
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        if (MaxLengthBytes is { } maxLength)
        {
            args["max-length-bytes"] = maxLength.ToString(CultureInfo.InvariantCulture);
        }

        if (MaxAge is { } maxAge)
        {
            args["max-age"] = ((long)maxAge.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s";
        }

        if (MaxSegmentSizeBytes is { } segment)
        {
            args["stream-max-segment-size-bytes"] = segment.ToString(CultureInfo.InvariantCulture);
        }

        if (InitialClusterSize is { } size)
        {
            args["initial-cluster-size"] = size.ToString(CultureInfo.InvariantCulture);
        }

        if (LeaderLocator is { } locator)
        {
            args["queue-leader-locator"] = locator == Client.LeaderLocator.ClientLocal ? "client-local" : "balanced";
        }

        if (FilterSizeBytes is { } filter)
        {
            args["stream-filter-size-bytes"] = filter.ToString(CultureInfo.InvariantCulture);
        }

        return args;
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var args = ToArguments();
        return args.Count == 0 ? "(broker defaults)" : string.Join(", ", args.Select(a => $"{a.Key}={a.Value}"));
    }
}
