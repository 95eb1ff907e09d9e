namespace Streams.Client;

/// <summary>
/// How a <see cref="Producer"/> or <see cref="Consumer"/> recovers after losing its connection (transport failure, missed
/// heartbeats, a Close from the broker) or after a MetadataUpdate (leader moved, stream unavailable): it re-locates the
/// stream through the Metadata command and reconnects with exponential back-off and jitter. A deleted stream is terminal.
/// </summary>
public sealed class RecoveryPolicy
{
    /// <summary>Recovery is on: unlimited attempts, 0.5 s initial delay doubling up to 30 s, ±20 % jitter.</summary>
    public static RecoveryPolicy Default { get; } = new();

    /// <summary>Recovery is off: the producer fails its unconfirmed messages and closes, the consumer faults.</summary>
    public static RecoveryPolicy Disabled { get; } = new() { Enabled = false };

    /// <summary>Whether to recover at all (default true).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// The most reconnection attempts per outage (outages that follow each other within <see cref="ResetAfter"/> count as
    /// one); <see langword="null"/> = unlimited (default). When they run out the producer or consumer fails with
    /// <see cref="RecoveryFailedException"/>.
    /// </summary>
    public int? MaxAttempts { get; init; }

    /// <summary>The delay before the first attempt (default 500 ms; zero = at once).</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest delay between attempts (default 30 s).</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The factor applied to the delay after each failed attempt (default 2; at least 1).</summary>
    public double BackoffMultiplier { get; init; } = 2.0;

    /// <summary>The random spread applied to each delay, as a fraction of it (default 0.2 = ±20 %; 0 to 1).</summary>
    public double Jitter { get; init; } = 0.2;

    /// <summary>
    /// How long a recovered connection must stay up before the back-off starts over (default 30 s). A connection lost
    /// again sooner (a broker that accepts the connection and then breaks it, e.g. with a malformed frame) continues the
    /// attempt count where the last recovery stopped, so its delays keep growing and <see cref="MaxAttempts"/> bounds the
    /// whole streak. <see cref="TimeSpan.Zero"/> = every loss starts over.
    /// </summary>
    public TimeSpan ResetAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The clock of the delays; <see langword="null"/> = the producer's or consumer's <c>TimeProvider</c>.</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>
    /// The delay before attempt <paramref name="attempt"/> (1-based): <see cref="InitialDelay"/> ×
    /// <see cref="BackoffMultiplier"/>^(attempt − 1), capped at <see cref="MaxDelay"/>, spread by <see cref="Jitter"/>
    /// using <paramref name="random"/> (a value in [0, 1)).
    /// </summary>
    /// <param name="attempt">The attempt number, from 1.</param>
    /// <param name="random">A uniform random value in [0, 1).</param>
    public TimeSpan GetDelay(int attempt, double random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        double baseTicks = InitialDelay.Ticks * Math.Pow(BackoffMultiplier, Math.Min(attempt - 1, 64));
        double capped = Math.Min(baseTicks, MaxDelay.Ticks);
        double spread = capped * Jitter * ((2 * Math.Clamp(random, 0, 1)) - 1);
        return TimeSpan.FromTicks((long)Math.Clamp(capped + spread, 0, Math.Max(MaxDelay.Ticks, InitialDelay.Ticks)));
    }

    /// <summary>Throws an <see cref="ArgumentException"/> describing the first invalid setting.</summary>
    public void Validate()
    {
        if (MaxAttempts is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "RecoveryPolicy.MaxAttempts must be at least 1 (null = unlimited).");
        }

        if (InitialDelay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(InitialDelay), InitialDelay, "RecoveryPolicy.InitialDelay must not be negative.");
        }

        if (MaxDelay < InitialDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDelay), MaxDelay, "RecoveryPolicy.MaxDelay must not be smaller than InitialDelay.");
        }

        if (ResetAfter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ResetAfter), ResetAfter, "RecoveryPolicy.ResetAfter must not be negative.");
        }

        if (double.IsNaN(BackoffMultiplier) || BackoffMultiplier < 1 || BackoffMultiplier > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(BackoffMultiplier), BackoffMultiplier, "RecoveryPolicy.BackoffMultiplier must be between 1 and 100.");
        }

        if (double.IsNaN(Jitter) || Jitter < 0 || Jitter > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Jitter), Jitter, "RecoveryPolicy.Jitter must be between 0 and 1.");
        }
    }
}
