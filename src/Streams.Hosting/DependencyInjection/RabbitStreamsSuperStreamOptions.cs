namespace Streams.Hosting;

/// <summary>
/// How super streams are followed at run time (section <c>RabbitStreams:SuperStreams</c>): hosted consumers and
/// <see cref="IStreamPublisher"/> re-read each super stream's partitions every <see cref="PartitionRefreshInterval"/>,
/// so a partition bound to the super stream's exchange while the application runs is consumed and published to, and
/// an unbound (or deleted) one is no longer, without a restart.
/// </summary>
public sealed class RabbitStreamsSuperStreamOptions
{
    /// <summary>The default <see cref="PartitionRefreshInterval"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultPartitionRefreshInterval = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often the partitions of every super stream are re-read (default 30 s; positive, or
    /// <see cref="Timeout.InfiniteTimeSpan"/> to read them once at start).
    /// </summary>
    public TimeSpan PartitionRefreshInterval { get; set; } = DefaultPartitionRefreshInterval;

    /// <summary>
    /// <see cref="PartitionRefreshInterval"/> for one super stream, by name (e.g.
    /// <c>RabbitStreams:SuperStreams:PartitionRefreshIntervals:invoices = 00:00:05</c>).
    /// </summary>
    public IDictionary<string, TimeSpan> PartitionRefreshIntervals { get; } = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);

    /// <summary>The refresh interval of <paramref name="superStream"/>.</summary>
    internal TimeSpan PartitionRefreshIntervalFor(string superStream) =>
        PartitionRefreshIntervals.TryGetValue(superStream, out var interval) ? interval : PartitionRefreshInterval;
}
