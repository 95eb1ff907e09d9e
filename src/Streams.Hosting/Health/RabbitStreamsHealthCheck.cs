using Microsoft.Extensions.Diagnostics.HealthChecks;
using Streams.Hosting.Internal;
using Streams.Hosting.Internal.Backend;

namespace Streams.Hosting.Health;

/// <summary>
/// Unhealthy while the connection is not made yet (the host started with the broker down: "connecting …" with the last
/// error), when it gave up (an error retrying cannot fix), when the declared streams could not be created, when a
/// consumer waits for its stream to be created, when a consumer faulted (stopped by its failure policy or an unrecoverable error), or has been without
/// its subscription (or publishing has been failing) longer than the grace period; Degraded within the grace period,
/// or when a consumer's lag is above the threshold. The data has one entry per consumer and the pooled producers.
/// </summary>
internal sealed class RabbitStreamsHealthCheck : IHealthCheck
{
    private readonly IStreamConsumerMonitor _monitor;
    private readonly IRabbitStreamsDiagnostics _diagnostics;
    private readonly RabbitStreamsHealthCheckOptions _options;
    private readonly TimeProvider _time;
    private readonly IStreamsBackend? _systems;
    private readonly StreamTopologyInitializer? _topology;

    public RabbitStreamsHealthCheck(
        IStreamConsumerMonitor monitor,
        IRabbitStreamsDiagnostics diagnostics,
        RabbitStreamsHealthCheckOptions options,
        TimeProvider time,
        IStreamsBackend? systems = null,
        StreamTopologyInitializer? topology = null)
    {
        _systems = systems;
        _topology = topology;
        _monitor = monitor;
        _diagnostics = diagnostics;
        _options = options;
        _time = time;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var now = _time.GetUtcNow();
        var status = HealthStatus.Healthy;
        var problems = new List<string>();
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        CheckConnection(now, problems, data, ref status);
        foreach (var consumer in _monitor.GetConsumers())
        {
            var diagnostics = _diagnostics.GetConsumer(consumer);
            var since = diagnostics?.StateSince ?? now;
            var label = $"{consumer.Name ?? consumer.HandlerType.Name}@{consumer.Partition ?? consumer.Stream}";
            var consumerStatus = HealthStatus.Healthy;
            switch (consumer.State)
            {
                case StreamConsumerState.Faulted:
                    consumerStatus = HealthStatus.Unhealthy;
                    problems.Add($"{label} stopped: {consumer.LastError?.Message ?? "faulted"}");
                    break;
                case StreamConsumerState.WaitingForStream:
                    consumerStatus = HealthStatus.Unhealthy;
                    problems.Add($"{label} waiting for stream '{consumer.Partition ?? consumer.Stream}' to be created for {(now - since).TotalSeconds:0.#}s (declare it with AddStream/AddSuperStream or create it)");
                    break;
                case StreamConsumerState.Starting or StreamConsumerState.Recovering:
                    var down = now - since;
                    consumerStatus = down > _options.ConnectionGracePeriod ? HealthStatus.Unhealthy : HealthStatus.Degraded;
                    problems.Add($"{label} {(consumer.State == StreamConsumerState.Starting ? "not subscribed yet" : "recovering")} for {down.TotalSeconds:0.#}s{(consumer.LastError is { } e ? $": {e.Message}" : string.Empty)}");
                    break;
                case StreamConsumerState.Running when _options.LagThreshold is { } threshold && diagnostics?.Lag > threshold:
                    consumerStatus = HealthStatus.Degraded;
                    problems.Add($"{label} lags {diagnostics.Lag} messages (threshold {threshold})");
                    break;
            }

            status = Worst(status, consumerStatus);
            data[$"consumer:{label}"] = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["handler"] = consumer.HandlerType.FullName,
                ["stream"] = consumer.Stream,
                ["partition"] = consumer.Partition,
                ["name"] = consumer.Name,
                ["state"] = consumer.State.ToString(),
                ["stateReason"] = consumer.StateReason,
                ["stateSince"] = since,
                ["active"] = consumer.IsActive,
                ["lastProcessedOffset"] = consumer.LastProcessedOffset,
                ["lastStoredOffset"] = consumer.LastStoredOffset,
                ["lag"] = diagnostics?.Lag,
                ["recoveries"] = diagnostics?.Recoveries,
                ["lastError"] = consumer.LastError?.Message,
                ["health"] = consumerStatus.ToString(),
            };
        }

        var publishing = _diagnostics.GetPublishing();
        if (publishing.FailingSince is { } failingSince)
        {
            var failing = now - failingSince;
            status = Worst(status, failing > _options.ConnectionGracePeriod ? HealthStatus.Unhealthy : HealthStatus.Degraded);
            problems.Add($"publishing fails for {failing.TotalSeconds:0.#}s: {publishing.LastError}");
            data["publishingFailingSince"] = failingSince;
        }

        var producers = _diagnostics.GetProducers();
        data["producers"] = producers.Count;
        data["producersClosed"] = producers.Count(p => !p.IsOpen);

        // A failure maps to the registration's failure status (Unhealthy unless configured otherwise).
        var description = problems.Count == 0 ? "RabbitMQ Streams consumers are running." : string.Join("; ", problems);
        return Task.FromResult(status switch
        {
            HealthStatus.Unhealthy => new HealthCheckResult(context.Registration.FailureStatus, description, null, data),
            _ => new HealthCheckResult(status, description, null, data),
        });
    }

    /// <summary>The connection and the declared streams: Unhealthy until both are there, or when either gave up.</summary>
    private void CheckConnection(DateTimeOffset now, List<string> problems, Dictionary<string, object> data, ref HealthStatus status)
    {
        if (_systems is null)
        {
            return;
        }

        var phase = _systems.Phase;
        data["connection"] = phase.ToString();
        switch (phase)
        {
            case ConnectionPhase.Connecting:
                status = HealthStatus.Unhealthy;
                problems.Add($"connecting to RabbitMQ Streams ({_systems.Endpoints}) for {(now - _systems.ConnectingSince).TotalSeconds:0.#}s, attempt {_systems.Attempts}" +
                    (_systems.LastError is { } e ? $"; last error: {e.Message}" : string.Empty));
                data["connectionAttempts"] = _systems.Attempts;
                if (_systems.LastError is { } last)
                {
                    data["connectionLastError"] = last.Message;
                }

                return;
            case ConnectionPhase.Faulted:
                status = HealthStatus.Unhealthy;
                problems.Add($"not connected to RabbitMQ Streams ({_systems.Endpoints}), given up until restart: {_systems.LastError?.Message}");
                data["connectionLastError"] = _systems.LastError?.Message ?? string.Empty;
                return;
        }

        if (_topology?.Fault is { } fault)
        {
            status = HealthStatus.Unhealthy;
            problems.Add($"the declared streams could not be created; the consumers do not start: {fault.Message}");
            data["topologyError"] = fault.Message;
        }
    }

    private static HealthStatus Worst(HealthStatus a, HealthStatus b) => a < b ? a : b;
}
