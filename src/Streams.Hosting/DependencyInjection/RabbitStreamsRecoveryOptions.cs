using Streams.Client;

namespace Streams.Hosting;

/// <summary>
/// How lost connections are recovered (section <c>RabbitStreams:Recovery</c>): the back-off of the background connect
/// while the broker is not reachable, of the client's own recovery of every producer and consumer (which re-locate the
/// stream and resume in place: a consumer continues after the last message it delivered), and of the hosting
/// re-subscribe of a consumer whose subscription ended for good. The delay before attempt n is
/// <see cref="InitialDelay"/> × <see cref="BackoffMultiplier"/>^(n−1), capped at <see cref="MaxDelay"/>, spread by
/// <see cref="Jitter"/>. Mapped to the client's <see cref="RecoveryPolicy"/> (<see cref="ToRecoveryPolicy"/>).
/// </summary>
public sealed class RabbitStreamsRecoveryOptions
{
    /// <summary>Whether producers and consumers recover at all (default true). Off: a lost connection fails the producer's pending messages and ends the consumer's subscription (the hosted consumer then subscribes again with the back-off below).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The delay before the first attempt (default 500 ms; zero = at once).</summary>
    public TimeSpan InitialDelay { get; set; } = RecoveryPolicy.Default.InitialDelay;

    /// <summary>The longest delay between attempts (default 30 s; not less than <see cref="InitialDelay"/>).</summary>
    public TimeSpan MaxDelay { get; set; } = RecoveryPolicy.Default.MaxDelay;

    /// <summary>The factor applied to the delay after each failed attempt (default 2; 1-100).</summary>
    public double BackoffMultiplier { get; set; } = RecoveryPolicy.Default.BackoffMultiplier;

    /// <summary>The random spread of each delay, as a fraction of it (default 0.2 = ±20 %; 0-1).</summary>
    public double Jitter { get; set; } = RecoveryPolicy.Default.Jitter;

    /// <summary>How long a recovered connection must stay up before the back-off starts over (default 30 s).</summary>
    public TimeSpan ResetAfter { get; set; } = RecoveryPolicy.Default.ResetAfter;

    /// <summary>
    /// The most attempts per outage; null = unlimited (default). When they run out, a producer or consumer fails with
    /// <c>RecoveryFailedException</c> (a hosted consumer is then Faulted) and the background connect at start gives up
    /// (the health check reports it Unhealthy).
    /// </summary>
    public int? MaxAttempts { get; set; }

    /// <summary>The client's policy with these settings.</summary>
    /// <param name="time">The clock of the delays (null = the producer's or consumer's).</param>
    /// <param name="initialDelay">Overrides <see cref="InitialDelay"/> (e.g. the legacy <see cref="RabbitStreamsConsumerOptions.RecoveryDelay"/>).</param>
    public RecoveryPolicy ToRecoveryPolicy(TimeProvider? time = null, TimeSpan? initialDelay = null)
    {
        var initial = initialDelay ?? InitialDelay;
        return new RecoveryPolicy
        {
            Enabled = Enabled,
            InitialDelay = initial,
            MaxDelay = MaxDelay < initial ? initial : MaxDelay,
            BackoffMultiplier = BackoffMultiplier,
            Jitter = Jitter,
            ResetAfter = ResetAfter,
            MaxAttempts = MaxAttempts,
            TimeProvider = time,
        };
    }
}
