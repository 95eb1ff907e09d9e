namespace Streams.Hosting.AspNetCore;

/// <summary>The JSON document of <c>MapRabbitStreams</c> and <c>GET</c> of <c>MapRabbitStreamsOperations</c>.</summary>
/// <param name="Consumers">Every hosted consumer (one per partition for a super stream).</param>
/// <param name="Producers">Every pooled producer, with its confirm latency and failures.</param>
public sealed record RabbitStreamsStatus(IReadOnlyList<RabbitStreamsConsumerStatus> Consumers, IReadOnlyList<StreamProducerStatus> Producers)
{
    /// <summary>The broker connection (null when the container has none, as under the test harness).</summary>
    public StreamConnectionStatus? Connection { get; init; }

    /// <summary>Whether publishing currently fails for connection reasons.</summary>
    public StreamPublishingStatus? Publishing { get; init; }
}

/// <summary>One hosted consumer in <see cref="RabbitStreamsStatus"/>.</summary>
/// <param name="Handler">The handler class (full name).</param>
/// <param name="Stream">The stream or super stream.</param>
/// <param name="Partition">The partition read (super streams).</param>
/// <param name="Name">The consumer name (offset-tracking reference; the name the operations endpoints take).</param>
/// <param name="State">Starting, Running, Paused, Recovering, WaitingForStream, Faulted or Stopped.</param>
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
    string? LastError)
{
    /// <summary>Why the consumer is in its state (e.g. <c>paused</c>, <c>not started</c>), when there is more to say.</summary>
    public string? StateReason { get; init; }

    /// <summary>The recent lag measurements, oldest first (see <see cref="StreamConsumerDiagnostics.LagHistory"/>).</summary>
    public IReadOnlyList<StreamLagSample> LagHistory { get; init; } = [];

    /// <summary>
    /// Messages handed to the handler per second over the lag history (at most its last
    /// <see cref="RabbitStreamsStatusBuilder.RateWindow"/>); null with fewer than two measurements.
    /// </summary>
    public double? Rate { get; init; }
}

/// <summary>The JSON document of <c>GET {pattern}/consumers/{name}</c>: every hosted consumer with that name.</summary>
/// <param name="Name">The consumer name.</param>
/// <param name="Consumers">One per partition for a super stream consumer, else one.</param>
public sealed record RabbitStreamsConsumerDetail(string Name, IReadOnlyList<RabbitStreamsConsumerStatus> Consumers);
