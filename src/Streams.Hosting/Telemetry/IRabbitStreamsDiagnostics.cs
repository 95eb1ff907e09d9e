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
public sealed record StreamConsumerDiagnostics(DateTimeOffset StateSince, long? Lag, DateTimeOffset? LagMeasuredAt, long Recoveries);

/// <summary>A pooled producer of <see cref="IStreamPublisher"/>.</summary>
/// <param name="Stream">The stream (or partition) it publishes to.</param>
/// <param name="Reference">Its deduplication reference (null for the plain producer).</param>
/// <param name="IsOpen">Whether it can publish (a closed producer is replaced on the next publish).</param>
/// <param name="Unconfirmed">Messages sent and not confirmed yet.</param>
public sealed record StreamProducerStatus(string Stream, string? Reference, bool IsOpen, int Unconfirmed);

/// <summary>Whether <see cref="IStreamPublisher"/> can reach the broker.</summary>
/// <param name="FailingSince">
/// When publishing started failing (timeouts, connection failures) without a success since; null while publishing works.
/// </param>
/// <param name="LastError">The last such failure's message.</param>
public sealed record StreamPublishingStatus(DateTimeOffset? FailingSince, string? LastError);

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
}
