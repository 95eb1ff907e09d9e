namespace Streams.Hosting;

/// <summary>What the instrumentation knows about one hosted consumer beyond <see cref="StreamConsumerStatus"/>.</summary>
/// <param name="StateSince">When the consumer entered its current <see cref="StreamConsumerStatus.State"/>.</param>
/// <param name="Lag">
/// Messages in the stream after the last one processed, measured every <see cref="StreamsTelemetryOptions.LagSamplingInterval"/>
/// from the stream's statistics: up to the first offset of the stream's last chunk (a lower bound within one chunk). It
/// counts offsets: the offset-tracking entries the broker writes into the stream (one per offset store of any named
/// consumer) take offsets too, so a caught-up consumer can show a small residual lag.
/// Null until measured (or when the consumer has not seen a message yet and the stream is not empty).
/// </param>
/// <param name="LagMeasuredAt">When <paramref name="Lag"/> was measured.</param>
/// <param name="Recoveries">How many times the subscription was lost and set up again.</param>
public sealed record StreamConsumerDiagnostics(DateTimeOffset StateSince, long? Lag, DateTimeOffset? LagMeasuredAt, long Recoveries)
{
    /// <summary>
    /// The last lag measurements, oldest first (at most <see cref="StreamsTelemetryOptions.LagHistoryLength"/>), each
    /// with the messages handed to the handler by then (their difference over time is the consumer's rate).
    /// </summary>
    public IReadOnlyList<StreamLagSample> LagHistory { get; init; } = [];
}

/// <summary>One lag measurement of a hosted consumer.</summary>
/// <param name="At">When it was measured.</param>
/// <param name="Lag">Messages behind (see <see cref="StreamConsumerDiagnostics.Lag"/>).</param>
/// <param name="Consumed">Messages handed to the handler since start (first attempts), at that time.</param>
public sealed record StreamLagSample(DateTimeOffset At, long Lag, long Consumed);

/// <summary>A pooled producer of <see cref="IStreamPublisher"/>.</summary>
/// <param name="Stream">The stream (or partition) it publishes to.</param>
/// <param name="Reference">
/// Its deduplication reference (null for the plain producer; <c>(deduplicating)</c> for a deduplicating producer that
/// could not be created, listed for its failed publishes).
/// </param>
/// <param name="IsOpen">Whether it can publish (a closed producer is replaced on the next publish).</param>
/// <param name="Unconfirmed">Messages sent and not confirmed yet.</param>
public sealed record StreamProducerStatus(string Stream, string? Reference, bool IsOpen, int Unconfirmed)
{
    /// <summary>Publishes to this stream (plain or deduplicating, like this producer) confirmed since start.</summary>
    public long Confirmed { get; init; }

    /// <summary>Publishes to this stream that failed since start (timeouts, rejections, connection failures; not caller cancellations).</summary>
    public long Failed { get; init; }

    /// <summary>From publish to confirm, for the last confirmed publish (null before one).</summary>
    public TimeSpan? LastConfirmLatency { get; init; }

    /// <summary>From publish to confirm, averaged over every confirmed publish since start (null before one).</summary>
    public TimeSpan? AverageConfirmLatency { get; init; }

    /// <summary>The last failure's message (null when none failed).</summary>
    public string? LastError { get; init; }
}

/// <summary>Whether <see cref="IStreamPublisher"/> can reach the broker.</summary>
/// <param name="FailingSince">
/// When publishing started failing (timeouts, connection failures) without a success since; null while publishing works.
/// </param>
/// <param name="LastError">The last such failure's message.</param>
public sealed record StreamPublishingStatus(DateTimeOffset? FailingSince, string? LastError);

/// <summary>The application's connection to RabbitMQ Streams.</summary>
/// <param name="Phase"><c>Connecting</c> (the first connection is not made yet), <c>Connected</c> or <c>Faulted</c> (given up until restart).</param>
/// <param name="Endpoints">The broker endpoints it connects to.</param>
/// <param name="ConnectingSince">When connecting started.</param>
/// <param name="Attempts">Connection attempts so far.</param>
/// <param name="LastError">The last connection error's message.</param>
public sealed record StreamConnectionStatus(string Phase, string Endpoints, DateTimeOffset ConnectingSince, int Attempts, string? LastError);

/// <summary>Runtime diagnostics of the hosted consumers and pooled producers (for health checks and status endpoints). Singleton.</summary>
public interface IRabbitStreamsDiagnostics
{
    /// <summary>The diagnostics of a consumer returned by <see cref="IStreamConsumerMonitor.GetConsumers"/>; null when it is gone.</summary>
    /// <param name="consumer">The consumer.</param>
    StreamConsumerDiagnostics? GetConsumer(StreamConsumerStatus consumer);

    /// <summary>A snapshot of the pooled producers.</summary>
    IReadOnlyList<StreamProducerStatus> GetProducers();

    /// <summary>Whether publishing currently fails for connection reasons (and since when).</summary>
    StreamPublishingStatus GetPublishing();

    /// <summary>The state of the connection (null when the container has no broker connection, as under the test harness).</summary>
    StreamConnectionStatus? GetConnection();
}
