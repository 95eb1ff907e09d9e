using System.Collections.ObjectModel;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using Streams.Client;
using Streams.Hosting.Health;
using Streams.Hosting.Telemetry;

namespace Streams.Hosting.Tests.Telemetry;

public sealed class TelemetryUnitTests
{
    [Fact]
    public void Trace_context_round_trips_through_application_properties()
    {
        using var activity = new Activity("test").SetIdFormat(ActivityIdFormat.W3C);
        activity.TraceStateString = "vendor=1";
        activity.Start();
        var message = new Message(new byte[1]) { ApplicationProperties = new ReadOnlyDictionary<string, object?>(new Dictionary<string, object?> { ["a"] = 1 }) };

        TraceContext.Inject(activity, message);

        Assert.Equal(activity.Id, message.ApplicationProperties!["traceparent"]);
        Assert.Equal("vendor=1", message.ApplicationProperties["tracestate"]);
        Assert.Equal(1, message.ApplicationProperties["a"]);
        Assert.True(TraceContext.TryExtract(message.ApplicationProperties, out var context));
        Assert.Equal(activity.TraceId, context.TraceId);
        Assert.Equal(activity.SpanId, context.SpanId);
        Assert.Equal("vendor=1", context.TraceState);
        Assert.True(context.IsRemote);
    }

    [Fact]
    public void Malformed_or_missing_trace_context_is_ignored()
    {
        Assert.False(TraceContext.TryExtract(null, out _));
        Assert.False(TraceContext.TryExtract(new Dictionary<string, object?> { ["traceparent"] = "garbage" }, out _));
        Assert.False(TraceContext.TryExtract(new Dictionary<string, object?> { ["traceparent"] = 42 }, out _));
    }

    [Theory]
    [InlineData(null, null, null, null, 0L)]        // empty stream
    [InlineData(100UL, 90UL, null, null, 10L)]      // processed up to 90, last chunk starts at 100
    [InlineData(100UL, null, 95UL, null, 5L)]       // only a stored offset
    [InlineData(100UL, null, null, 91UL, 10L)]      // nothing processed: 91..100
    [InlineData(100UL, null, null, null, null)]     // unknown
    [InlineData(100UL, 120UL, null, null, 0L)]      // processed inside the last chunk
    public void Lag_is_the_last_chunk_minus_the_last_processed_offset(ulong? lastChunk, ulong? processed, ulong? stored, ulong? firstSeen, long? expected)
    {
        var status = new StreamConsumerStatus(typeof(object), "s", null, "n", StreamConsumerState.Running, processed, stored, 0, 0, null);
        Assert.Equal(expected, ConsumerLagSampler.Compute(lastChunk, status, firstSeen));
    }

    [Fact]
    public async Task Health_follows_the_consumer_state_and_the_grace_period()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var instrumentation = new StreamsInstrumentation(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), Microsoft.Extensions.Options.Options.Create(new StreamsTelemetryOptions()), time);
        var monitor = new FakeMonitor();
        var telemetry = instrumentation.AddConsumer(typeof(object), "orders", null, "billing", () => monitor.Status);
        var check = new RabbitStreamsHealthCheck(monitor, instrumentation, new RabbitStreamsHealthCheckOptions { ConnectionGracePeriod = TimeSpan.FromSeconds(30), LagThreshold = 100 }, time);
        var context = new HealthCheckContext { Registration = new HealthCheckRegistration("streams", check, HealthStatus.Unhealthy, null) };

        async Task<HealthStatus> StatusAfter(StreamConsumerState state, TimeSpan elapsed = default)
        {
            monitor.Status = monitor.Status with { State = state };
            telemetry.SetState(state);
            time.Advance(elapsed);
            return (await check.CheckHealthAsync(context, TestContext.Current.CancellationToken)).Status;
        }

        Assert.Equal(HealthStatus.Degraded, await StatusAfter(StreamConsumerState.Starting));
        Assert.Equal(HealthStatus.Healthy, await StatusAfter(StreamConsumerState.Running));
        Assert.Equal(HealthStatus.Degraded, await StatusAfter(StreamConsumerState.Recovering, TimeSpan.FromSeconds(29)));
        Assert.Equal(HealthStatus.Unhealthy, await StatusAfter(StreamConsumerState.Recovering, TimeSpan.FromSeconds(2)));
        Assert.Equal(HealthStatus.Healthy, await StatusAfter(StreamConsumerState.Running));
        telemetry.SetLag(101);
        Assert.Equal(HealthStatus.Degraded, await StatusAfter(StreamConsumerState.Running));
        telemetry.SetLag(100);
        Assert.Equal(HealthStatus.Healthy, await StatusAfter(StreamConsumerState.Running));
        Assert.Equal(HealthStatus.Unhealthy, await StatusAfter(StreamConsumerState.Faulted));
        Assert.Equal(1, instrumentation.GetConsumer(monitor.Status)!.Recoveries);

        telemetry.SetState(StreamConsumerState.Running);
        monitor.Status = monitor.Status with { State = StreamConsumerState.Running };
        instrumentation.PublishFailed(new TimeoutException("no confirm"));
        Assert.Equal(HealthStatus.Degraded, (await check.CheckHealthAsync(context, TestContext.Current.CancellationToken)).Status);
        time.Advance(TimeSpan.FromSeconds(31));
        instrumentation.PublishFailed(new TimeoutException("no confirm"));
        var failing = await check.CheckHealthAsync(context, TestContext.Current.CancellationToken);
        Assert.Equal(HealthStatus.Unhealthy, failing.Status);
        Assert.Contains("publishing fails for 31s: no confirm", failing.Description, StringComparison.Ordinal);
        instrumentation.PublishSucceeded();
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(context, TestContext.Current.CancellationToken)).Status);

        monitor.Status = monitor.Status with { State = StreamConsumerState.Faulted };
        var custom = new HealthCheckContext { Registration = new HealthCheckRegistration("streams", check, HealthStatus.Degraded, null) };
        Assert.Equal(HealthStatus.Degraded, (await check.CheckHealthAsync(custom, TestContext.Current.CancellationToken)).Status);
    }

    private sealed class FakeMonitor : IStreamConsumerMonitor
    {
        public StreamConsumerStatus Status { get; set; } = new(typeof(object), "orders", null, "billing", StreamConsumerState.Starting, null, null, 0, 0, null);

        public IReadOnlyList<StreamConsumerStatus> GetConsumers() => [Status];
    }
}
