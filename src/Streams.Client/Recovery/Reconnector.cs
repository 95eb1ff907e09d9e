using Microsoft.Extensions.Logging;

namespace Streams.Client.Recovery;

/// <summary>The retry loop shared by producers and consumers: back-off with jitter on the policy's clock.</summary>
internal static class Reconnector
{
    /// <summary>Failures that no retry can fix: the stream is gone, or the credentials/permissions are wrong.</summary>
    public static bool IsTerminal(Exception exception) => exception is StreamDoesNotExistException
        or AuthenticationFailureException or VirtualHostAccessFailureException or AccessRefusedException
        or ObjectDisposedException or StreamDeletedException;

    /// <summary>
    /// Runs <paramref name="attempt"/> until it succeeds, waiting <see cref="RecoveryPolicy.GetDelay"/> before each try.
    /// Throws the terminal failure as is, <see cref="RecoveryFailedException"/> when the attempts run out, and
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires.
    /// </summary>
    /// <remarks>
    /// With a <paramref name="streak"/>, the attempts continue the count of a recovery whose connection was lost again
    /// soon after it succeeded (see <see cref="RecoveryStreak"/>): the delays keep growing instead of starting over.
    /// </remarks>
    public static async Task<T> RunAsync<T>(
        RecoveryPolicy policy,
        TimeProvider timeProvider,
        string stream,
        ILogger logger,
        Action<int> onAttempt,
        Func<int, CancellationToken, Task<T>> attempt,
        CancellationToken cancellationToken,
        RecoveryStreak? streak = null,
        Exception? loss = null)
    {
        int previous = streak?.Begin(policy, timeProvider, loss) ?? 0;
        Exception? last = previous > 0 ? loss : null;
        if (previous > 0)
        {
            RecoveryLog.StreakContinues(logger, stream, previous, policy.ResetAfter.TotalSeconds, loss?.Message ?? "connection lost");
        }

        for (int n = previous + 1; ; n++)
        {
            if (policy.MaxAttempts is { } max && n > max)
            {
                throw new RecoveryFailedException(stream, n - 1, last);
            }

            var delay = policy.GetDelay(n, Random.Shared.NextDouble());
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, timeProvider, cancellationToken).ConfigureAwait(false);
            }

            cancellationToken.ThrowIfCancellationRequested();
            streak?.Attempted(n);
            onAttempt(n);
            try
            {
                var result = await attempt(n, cancellationToken).ConfigureAwait(false);
                streak?.Recovered(timeProvider);
                return result;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException && !IsTerminal(ex) && !cancellationToken.IsCancellationRequested)
            {
                last = ex;
                RecoveryLog.AttemptFailed(logger, stream, n, ex.Message, ex);
            }
        }
    }
}

internal static partial class RecoveryLog
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "{Kind} on stream {Stream}: {Previous} -> {Status} ({Reason})")]
    public static partial void StatusChanged(ILogger logger, string kind, string stream, StreamStatus previous, StreamStatus status, string reason);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Recovery attempt {Attempt} on stream {Stream} failed: {Error}")]
    public static partial void AttemptFailed(ILogger logger, string stream, int attempt, string error, Exception exception);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "A StatusChanged handler on stream {Stream} threw")]
    public static partial void StatusHandlerFailed(ILogger logger, string stream, Exception exception);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "Stream {Stream}: the connection recovered by attempt {Attempt} was lost again within {ResetAfterSeconds} s ({Reason}); the back-off continues from there")]
    public static partial void StreakContinues(ILogger logger, string stream, int attempt, double resetAfterSeconds, string reason);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Error, Message = "{Kind} on stream {Stream} failed for good: {Reason}")]
    public static partial void Failed(ILogger logger, string kind, string stream, string reason, Exception? exception);
}
