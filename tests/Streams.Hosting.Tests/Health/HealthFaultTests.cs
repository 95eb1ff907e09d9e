using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Streams.Hosting.Tests.Consuming;
using Streams.Hosting.Tests.Integration;
using Streams.Testing;

namespace Streams.Hosting.Tests.Health;

/// <summary>Tests that close every connection of the broker node: nothing else may run meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultsCollection : ICollectionFixture<BrokerFixture>
{
    public const string Name = "faults";
}

[Trait("Category", "Broker")]
[Collection(FaultsCollection.Name)]
[Trait("Category", "LocalBroker")]
public sealed class HealthFaultTests(BrokerFixture broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Closed_connections_make_the_check_degraded_then_unhealthy_past_the_grace_period_then_healthy_again()
    {
        var stream = BrokerFixture.UniqueName("health-faults");
        using var collector = new Telemetry.TelemetryCollector(stream, traces: false);
        using var host = TestHost.Build(
            broker,
            b =>
            {
                b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "faulty"; });
                b.Services.AddHealthChecks().AddRabbitStreams(o => o.ConnectionGracePeriod = TimeSpan.FromSeconds(1));
            },
            o => o.Consumers.RecoveryDelay = TimeSpan.FromSeconds(3));
        await host.StartAsync(Ct);
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var monitor = host.Services.GetRequiredService<IStreamConsumerMonitor>();
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        await publisher.PublishAsync(stream, new Order("before", 1), Ct);
        await host.Services.GetRequiredService<Probe>().TakeAsync(1);
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(Ct)).Status);

        await BrokerScript.RunAsync("close-connections", cancellationToken: Ct);

        // Degraded while recovering within the grace period, Unhealthy past it, Healthy once subscribed again.
        var seen = new List<HealthStatus>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var status = (await health.CheckHealthAsync(Ct)).Status;
            if (seen.Count == 0 ? status != HealthStatus.Healthy : seen[^1] != status)
            {
                seen.Add(status);
            }

            if (status == HealthStatus.Healthy && seen.Count > 0)
            {
                break;
            }

            await Task.Delay(50, Ct);
        }

        Assert.Equal([HealthStatus.Degraded, HealthStatus.Unhealthy, HealthStatus.Healthy], seen);
        var diagnostics = host.Services.GetRequiredService<IRabbitStreamsDiagnostics>().GetConsumer(monitor.GetConsumers()[0]);
        Assert.True(diagnostics!.Recoveries >= 1);
        Assert.Contains(collector.Of("rabbitmq.stream.reconnects"), m => (string?)m.Tags["rabbitmq.stream.connection.role"] == "consumer" && m.Instrument.Unit == "{reconnect}");

        await publisher.PublishAsync(stream, new Order("after", 2), Ct);
        await host.Services.GetRequiredService<Probe>().TakeAsync(1);
        Assert.Contains(collector.Of("rabbitmq.stream.reconnects"), m => (string?)m.Tags["rabbitmq.stream.connection.role"] == "producer");
        await host.StopAsync(Ct);
    }
}
