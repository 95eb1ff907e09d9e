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
        var spans = new TestActivityExporter(keep: true);
        var metrics = new TestMetricExporter();
        using var tracerProvider = Sdk.CreateTracerProviderBuilder()
            .AddRabbitStreamsInstrumentation()
            .AddProcessor(new SimpleActivityExportProcessor(spans))
            .Build();
        using var meterProvider = Sdk.CreateMeterProviderBuilder()
            .AddRabbitStreamsInstrumentation()
            .AddReader(new BaseExportingMetricReader(metrics))
            .Build();

        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "sdk"; }));
        await host.StartAsync(Ct);
        await host.Services.GetRequiredService<IStreamPublisher>().PublishAsync(stream, new Order("sdk-1", 1), Ct);
        await host.Services.GetRequiredService<Probe>().TakeAsync(1);
        await TestHost.WaitUntilAsync(() => spans.Exported.Any(a => a.DisplayName == $"process {stream}"), "process span exported");
        meterProvider.ForceFlush();

        var send = Assert.Single(spans.Exported, a => a.DisplayName == $"send {stream}");
        Assert.Equal(ActivityKind.Producer, send.Kind);
        Assert.Equal(StreamsTelemetry.Version, send.Source.Version);
        Assert.Equal(StreamsTelemetry.SchemaUrl, send.Source.TelemetrySchemaUrl);
        Assert.Equal("{message}", metrics.Units["messaging.client.sent.messages"]);
        Assert.Equal("{message}", metrics.Units["messaging.client.consumed.messages"]);
        Assert.Equal("s", metrics.Units["messaging.client.operation.duration"]);
        Assert.Equal("s", metrics.Units["messaging.process.duration"]);
        await host.StopAsync(Ct);
    }
}
