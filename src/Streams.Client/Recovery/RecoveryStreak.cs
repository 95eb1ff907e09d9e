namespace Streams.Client.Recovery;

/// <summary>
/// The back-off state of one producer or consumer across recoveries. A recovery that succeeds but whose connection is
/// lost again within <see cref="RecoveryPolicy.ResetAfter"/> (a broker or proxy that accepts the connection and then
/// breaks it: a malformed frame, a protocol violation, a crash on subscribe) does not start over at
/// <see cref="RecoveryPolicy.InitialDelay"/>: its attempts continue the count, so the delays keep growing and
/// <see cref="RecoveryPolicy.MaxAttempts"/> bounds the whole streak. A connection that stays up that long resets it.
/// </summary>
internal sealed class RecoveryStreak
{
    private readonly Lock _lock = new();
    private int _attempts;
    private long _recoveredAt = -1;
    private Exception? _lastLoss;

    /// <summary>
    /// Called when a recovery starts after a loss: returns the attempt count the streak already holds (0 when the last
    /// recovery is older than <see cref="RecoveryPolicy.ResetAfter"/>, or there was none).
    /// </summary>
    public int Begin(RecoveryPolicy policy, TimeProvider timeProvider, Exception? loss)
    {
        lock (_lock)
        {
            if (_recoveredAt < 0 || timeProvider.GetElapsedTime(_recoveredAt) >= policy.ResetAfter)
            {
                _attempts = 0;
            }

            _lastLoss = loss;
            return _attempts;
        }
    }

    /// <summary>The connection loss that started this recovery, reported when the streak runs out of attempts.</summary>
    public Exception? LastLoss
    {
        get
        {
            lock (_lock)
            {
                return _lastLoss;
            }
        }
    }

    /// <summary>Records attempt <paramref name="attempt"/> of the streak.</summary>
    public void Attempted(int attempt)
    {
        lock (_lock)
        {
            _attempts = attempt;
        }
    }

    /// <summary>Records a successful recovery (the connection it produced is watched for <see cref="RecoveryPolicy.ResetAfter"/>).</summary>
    public void Recovered(TimeProvider timeProvider)
    {
        lock (_lock)
        {
            _recoveredAt = timeProvider.GetTimestamp();
        }
    }
}
