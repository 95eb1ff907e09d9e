using Microsoft.Extensions.Logging;

namespace Streams.Hosting.DeadLetters;

/// <summary>The log events of dead-letter replays (ids 60–69, docs/log-events.md).</summary>
internal static partial class DeadLetterLog
{
    [LoggerMessage(68, LogLevel.Information, "Dead-letter replay of '{DeadLetterStream}' ({Mode}, dry run: {DryRun}): {Replayed} replayed, {AlreadyReplayed} already replayed, {Filtered} filtered, offsets {FirstOffset}..{LastOffset}")]
    public static partial void Replayed(ILogger logger, string deadLetterStream, DeadLetterReplayMode mode, bool dryRun, long replayed, long alreadyReplayed, long filtered, ulong? firstOffset, ulong? lastOffset);

    [LoggerMessage(69, LogLevel.Warning, "Dead-letter replay of '{DeadLetterStream}' ({Mode}) failed")]
    public static partial void ReplayFailed(ILogger logger, string deadLetterStream, DeadLetterReplayMode mode, Exception error);
}
