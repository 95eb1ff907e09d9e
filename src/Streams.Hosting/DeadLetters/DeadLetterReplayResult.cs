namespace Streams.Hosting;

/// <summary>What one <see cref="IStreamDeadLetterReplayer.ReplayAsync"/> did.</summary>
/// <param name="DeadLetterStream">The dead-letter stream read.</param>
/// <param name="Replayed">Dead letters sent back and confirmed (with <see cref="DeadLetterReplayOptions.DryRun"/>: that would be sent).</param>
/// <param name="AlreadyReplayed">Dead letters skipped because an earlier replay sent them to the same target (the target's deduplication sequence is past them).</param>
/// <param name="Filtered">Dead letters left out by <see cref="DeadLetterReplayOptions.OriginalStream"/>.</param>
/// <param name="FirstOffset">The first dead-letter offset read; null when nothing was read.</param>
/// <param name="LastOffset">The last dead-letter offset read; null when nothing was read.</param>
/// <param name="Targets">How many dead letters were (or, in a dry run, would be) sent to each stream.</param>
/// <param name="DryRun">Whether nothing was sent or stored.</param>
public sealed record DeadLetterReplayResult(
    string DeadLetterStream,
    long Replayed,
    long AlreadyReplayed,
    long Filtered,
    ulong? FirstOffset,
    ulong? LastOffset,
    IReadOnlyDictionary<string, long> Targets,
    bool DryRun)
{
    /// <summary>All dead letters read.</summary>
    public long Read => Replayed + AlreadyReplayed + Filtered;
}
