namespace Streams.Hosting;

/// <summary>Thresholds of the RabbitMQ Streams health check (<c>AddHealthChecks().AddRabbitStreams()</c>).</summary>
public sealed class RabbitStreamsHealthCheckOptions
{
    /// <summary>
    /// How long a consumer may be without its subscription (starting or recovering after a lost connection), or
    /// publishing may keep failing with timeouts or connection errors, before the check reports Unhealthy; Degraded
    /// until then. Default 30 seconds.
    /// </summary>
    public TimeSpan ConnectionGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Degraded when a consumer's measured lag (messages) is above this; null (the default) ignores lag.</summary>
    public long? LagThreshold { get; set; }
}
