using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Streams.Hosting.Tests.Consuming;
using Streams.Hosting.Tests.Harness;
using Streams.Hosting.Tests.Integration;
using Streams.Hosting.Tests.Telemetry;
using Streams.Testing;

namespace Streams.Hosting.Tests.Health;

[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class HealthTests(BrokerFixture broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_consumer_stopped_by_its_policy_makes_the_check_unhealthy() // on the harness: no broker behaviour involved
    {
        var stream = BrokerFixture.UniqueName("health-stop");
        var probe = new Probe();
        probe.Poison["poison"] = true;
        using var host = HarnessHost.Build(b =>
        {
            b.AddStream(stream).AddConsumer<OrderHandler>(c =>
            {
                c.Stream = stream;
                c.Name = "stopper";
                c.FailurePolicy = new HandlerFailurePolicy { MaxRetries = 0, AfterRetries = FailureAction.Stop };
            });
            b.Services.AddHealthChecks().AddRabbitStreams();
        }, probe: probe);
        await host.StartAsync(Ct);
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var monitor = host.Services.GetRequiredService<IStreamConsumerMonitor>();
        await TestHost.WaitUntilAsync(() => monitor.GetConsumers()[0].State == StreamConsumerState.Running, "running");
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(Ct)).Status);

        await host.Services.GetRequiredService<IStreamPublisher>().PublishAsync(stream, new Order("poison", 1), Ct);
        await host.Harness().WaitForFaultedAsync<Order>(cancellationToken: Ct);
        await TestHost.WaitUntilAsync(() => monitor.GetConsumers()[0].State == StreamConsumerState.Faulted, "faulted");

        var report = await health.CheckHealthAsync(Ct);
        var entry = report.Entries[RabbitStreamsHealthChecksBuilderExtensions.DefaultName];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("poison order poison", entry.Description, StringComparison.Ordinal);
        var data = Assert.IsType<Dictionary<string, object?>>(entry.Data[$"consumer:stopper@{stream}"]);
        Assert.Equal("Faulted", data["state"]);
        Assert.Equal("Unhealthy", data["health"]);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Lag_grows_while_a_handler_is_blocked_and_drops_when_it_catches_up()
    {
        var stream = BrokerFixture.UniqueName("health-lag");
        using var collector = new TelemetryCollector(stream, traces: false);
        var probe = new Probe { BlockOn = "block" };
        using var host = TestHost.Build(broker, b =>
        {
            b.AddStream(stream)
                .AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "laggard"; })
                .ConfigureTelemetry(o => o.LagSamplingInterval = TimeSpan.FromMilliseconds(200));
            b.Services.AddHealthChecks().AddRabbitStreams(o => o.LagThreshold = 5);
        }, probe: probe);
        await host.StartAsync(Ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        var monitor = host.Services.GetRequiredService<IStreamConsumerMonitor>();
        var diagnostics = host.Services.GetRequiredService<IRabbitStreamsDiagnostics>();
        var health = host.Services.GetRequiredService<HealthCheckService>();
        long? Lag() => diagnostics.GetConsumer(monitor.GetConsumers()[0])?.Lag;

        await publisher.PublishAsync(stream, new Order("first", 0), Ct);
        await probe.TakeAsync(1);
        // Offset stores are written into the stream as tracking entries and take offsets too: a few of them at most here.
        const int TrackingSlack = 3;
        await TestHost.WaitUntilAsync(() => Lag() <= TrackingSlack, "no lag after the first message");

        await publisher.PublishAsync(stream, new Order("block", 0), Ct);
        await probe.Blocked.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        for (var i = 0; i < 20; i++)
        {
            await publisher.PublishAsync(stream, new Order($"behind-{i}", i), Ct);
        }

        // Each confirmed publish is its own chunk here: the lag counts all 21 messages after "first".
        await TestHost.WaitUntilAsync(() => Lag() >= 20, "lag grows while the handler is blocked");
        collector.RecordObservables();
        var gauge = collector.Of("rabbitmq.stream.consumer.lag")[^1];
        Assert.True(gauge.Value >= 20, $"lag gauge {gauge.Value}");
        Assert.Equal("{message}", gauge.Instrument.Unit);
        Assert.Equal("laggard", gauge.Tags["messaging.consumer.group.name"]);
        Assert.Equal(HealthStatus.Degraded, (await health.CheckHealthAsync(Ct)).Status);

        probe.Release.TrySetResult();
        await probe.TakeAsync(21);
        try
        {
            await TestHost.WaitUntilAsync(() => Lag() <= TrackingSlack, "lag drops when the handler catches up");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}: {monitor.GetConsumers()[0]} {diagnostics.GetConsumer(monitor.GetConsumers()[0])}", ex);
        }
        collector.RecordObservables();
        Assert.True(collector.Of("rabbitmq.stream.consumer.lag")[^1].Value <= TrackingSlack);
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(Ct)).Status);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Status_endpoint_returns_consumers_and_producers_as_json()
    {
        var stream = BrokerFixture.UniqueName("health-status");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton<Probe>();
        builder.Services.AddRabbitStreams(o => TestHost.Apply(broker.Endpoint, o))
            .AddStream(stream)
            .AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "status"; })
            .ConfigureTelemetry(o => o.LagSamplingInterval = TimeSpan.FromMilliseconds(200));
        await using var app = builder.Build();
        app.MapRabbitStreams("/streams");
        await app.StartAsync(Ct);
        await app.Services.GetRequiredService<IStreamPublisher>().PublishAsync(stream, new Order("s-1", 1), Ct);
        await app.Services.GetRequiredService<Probe>().TakeAsync(1);
        var diagnostics = app.Services.GetRequiredService<IRabbitStreamsDiagnostics>();
        var monitor = app.Services.GetRequiredService<IStreamConsumerMonitor>();
        await TestHost.WaitUntilAsync(() => diagnostics.GetConsumer(monitor.GetConsumers()[0])?.Lag is not null, "lag measured");

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        var json = await http.GetFromJsonAsync<JsonElement>("/streams", Ct);

        var consumer = Assert.Single(json.GetProperty("consumers").EnumerateArray());
        Assert.Equal(stream, consumer.GetProperty("stream").GetString());
        Assert.Equal("status", consumer.GetProperty("name").GetString());
        Assert.Equal("Running", consumer.GetProperty("state").GetString());
        Assert.Equal(0UL, consumer.GetProperty("lastProcessedOffset").GetUInt64());
        Assert.InRange(consumer.GetProperty("lag").GetInt64(), 0, 3);
        Assert.Equal(typeof(OrderHandler).FullName, consumer.GetProperty("handler").GetString());
        Assert.True(consumer.TryGetProperty("lastStoredOffset", out _));
        var producer = Assert.Single(json.GetProperty("producers").EnumerateArray());
        Assert.Equal(stream, producer.GetProperty("stream").GetString());
        Assert.True(producer.GetProperty("isOpen").GetBoolean());
        await app.StopAsync(Ct);
    }
}
