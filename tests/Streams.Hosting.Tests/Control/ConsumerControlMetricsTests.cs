using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Streams.Hosting.Tests.Integration;
using Streams.Hosting.Tests.Telemetry;
using Streams.Testing;

namespace Streams.Hosting.Tests.Control;

[Collection(BrokerCollection.Name)]
public sealed class ConsumerControlMetricsTests(BrokerFixture broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_paused_gauge_is_1_while_paused_or_not_started_and_0_while_running()
    {
        var stream = BrokerFixture.UniqueName("control-metrics");
        using var collector = new TelemetryCollector(stream, traces: false);
        using var host = TestHost.Build(broker, b => b.AddStream(stream)
            .AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "billing"; c.AutoStart = false; }));
        await host.StartAsync(Ct);
        var control = host.Services.GetRequiredService<IStreamConsumerControl>();

        Assert.Equal(1, Paused(collector));
        await control.ResumeAsync("billing", Ct);
        Assert.Equal(0, Paused(collector));
        await control.PauseAsync("billing", Ct);
        Assert.Equal(1, Paused(collector));
        await host.StopAsync(Ct);
    }

    private static double Paused(TelemetryCollector collector)
    {
        collector.RecordObservables();
        var paused = collector.Of("rabbitmq.stream.consumer.paused");
        Assert.IsType<ObservableGauge<long>>(paused[^1].Instrument);
        Assert.Equal("{consumer}", paused[^1].Instrument.Unit);
        Assert.Equal("billing", paused[^1].Tags["messaging.consumer.group.name"]);
        return Convert.ToDouble(paused[^1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
