using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Streams.Hosting.Tests.Consuming;
using Streams.Hosting.Tests.Integration;
using Streams.Testing;

namespace Streams.Hosting.Tests.Telemetry;

[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class OpenTelemetryWiringTests(BrokerFixture broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AddRabbitStreamsInstrumentation_exports_the_spans_and_metrics_through_the_sdk()
    {
        var stream = BrokerFixture.UniqueName("otel-sdk");
        // The SDK's in-memory exporters; List<T>.ToArray copies without enumerating, so reading while spans arrive is safe.
        var spans = new List<Activity>();
        var metrics = new List<MetricSnapshot>();
        using var tracerProvider = Sdk.CreateTracerProviderBuilder()
            .AddRabbitStreamsInstrumentation()
            .AddInMemoryExporter(spans)
            .Build();
        using var meterProvider = Sdk.CreateMeterProviderBuilder()
            .AddRabbitStreamsInstrumentation()
            .AddInMemoryExporter(metrics)
            .Build();

        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "sdk"; }));
        await host.StartAsync(Ct);
        await host.Services.GetRequiredService<IStreamPublisher>().PublishAsync(stream, new Order("sdk-1", 1), Ct);
        await host.Services.GetRequiredService<Probe>().TakeAsync(1);
        await TestHost.WaitUntilAsync(() => spans.ToArray().Any(a => a.DisplayName == $"process {stream}"), "process span exported");
        meterProvider.ForceFlush();

        var send = Assert.Single(spans.ToArray(), a => a.DisplayName == $"send {stream}");
        Assert.Equal(ActivityKind.Producer, send.Kind);
        Assert.Equal(StreamsTelemetry.Version, send.Source.Version);
        Assert.Equal(StreamsTelemetry.SchemaUrl, send.Source.TelemetrySchemaUrl);
        var units = metrics.ToArray().GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.First().Unit);
        Assert.Equal("{message}", units["messaging.client.sent.messages"]);
        Assert.Equal("{message}", units["messaging.client.consumed.messages"]);
        Assert.Equal("s", units["messaging.client.operation.duration"]);
        Assert.Equal("s", units["messaging.process.duration"]);
        await host.StopAsync(Ct);
    }
}
