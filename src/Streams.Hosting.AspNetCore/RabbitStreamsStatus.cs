namespace Streams.Hosting.AspNetCore;

/// <summary>The JSON document of <c>MapRabbitStreams</c>.</summary>
/// <param name="Consumers">Every hosted consumer (one per partition for a super stream).</param>
/// <param name="Producers">Every pooled producer.</param>
public sealed record RabbitStreamsStatus(IReadOnlyList<RabbitStreamsConsumerStatus> Consumers, IReadOnlyList<StreamProducerStatus> Producers);

/// <summary>One hosted consumer in <see cref="RabbitStreamsStatus"/>.</summary>
/// <param name="Handler">The handler class (full name).</param>
/// <param name="Stream">The stream or super stream.</param>
/// <param name="Partition">The partition read (super streams).</param>
/// <param name="Name">The consumer name (offset-tracking reference).</param>
/// <param name="State">Starting, Running, Recovering, Faulted or Stopped.</param>
/// <param name="StateSince">When it entered the state.</param>
/// <param name="IsActive">False while a single-active consumer waits as a standby.</param>
/// <param name="LastProcessedOffset">The last offset processed.</param>
/// <param name="LastStoredOffset">The last offset stored on the broker.</param>
/// <param name="Lag">Messages behind (see <see cref="StreamConsumerDiagnostics.Lag"/>).</param>
/// <param name="LagMeasuredAt">When the lag was measured.</param>
/// <param name="Handled">Messages handled since start.</param>
/// <param name="Failed">Messages that exhausted their retries.</param>
/// <param name="Recoveries">Subscriptions set up again after failures.</param>
/// <param name="LastError">The last error's message.</param>
public sealed record RabbitStreamsConsumerStatus(
    string Handler,
    string Stream,
    string? Partition,
    string? Name,
    string State,
    DateTimeOffset? StateSince,
    bool IsActive,
    ulong? LastProcessedOffset,
    ulong? LastStoredOffset,
    long? Lag,
    DateTimeOffset? LagMeasuredAt,
    long Handled,
    long Failed,
    long? Recoveries,
    string? LastError);
