using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Hosting.Tests.Consuming;
using Streams.Hosting.Tests.Integration;
using Streams.Testing;

namespace Streams.Hosting.Tests.Telemetry;

[Collection(BrokerCollection.Name)]
public sealed class MetricsTests(BrokerFixture broker)
{
    private static readonly double[] SemconvBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_four_messaging_metrics_have_the_conventions_names_units_and_dimensions()
    {
        var stream = BrokerFixture.UniqueName("otel-metrics");
        using var collector = new TelemetryCollector(stream, traces: false);
        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "metered"; }));
        await host.StartAsync(Ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        for (var i = 0; i < 3; i++)
        {
            await publisher.PublishAsync(stream, new Order($"m-{i}", i), Ct);
        }

        await host.Services.GetRequiredService<Probe>().TakeAsync(3);
        await TestHost.WaitUntilAsync(() => collector.Of("messaging.process.duration").Count >= 3, "process durations");

        var sent = collector.Of("messaging.client.sent.messages");
        Assert.Equal(3, sent.Sum(m => m.Value));
        Assert.All(sent, m =>
        {
            Assert.Equal("{message}", m.Instrument.Unit);
            Assert.IsType<Counter<long>>(m.Instrument);
            Assert.Equal("rabbitmq", m.Tags["messaging.system"]);
            Assert.Equal("send", m.Tags["messaging.operation.name"]);
            Assert.Equal(stream, m.Tags["messaging.destination.name"]);
            Assert.False(m.Tags.ContainsKey("error.type"));
        });

        var durations = collector.Of("messaging.client.operation.duration").Where(m => (string?)m.Tags["messaging.operation.name"] == "send").ToList();
        Assert.Equal(3, durations.Count);
        Assert.All(durations, m =>
        {
            Assert.Equal("s", m.Instrument.Unit);
            Assert.Equal(SemconvBuckets, ((Histogram<double>)m.Instrument).Advice!.HistogramBucketBoundaries!);
            Assert.True(m.Value > 0 && m.Value < 60, $"a duration in seconds: {m.Value}");
            Assert.Equal(stream, m.Tags["messaging.destination.name"]);
        });

        collector.RecordObservables();
        var consumed = collector.Of("messaging.client.consumed.messages");
        Assert.Equal(3, consumed[^1].Value); // cumulative
        Assert.All(consumed, m =>
        {
            Assert.IsType<ObservableCounter<long>>(m.Instrument);
            Assert.Equal("{message}", m.Instrument.Unit);
            Assert.Equal("process", m.Tags["messaging.operation.name"]);
            Assert.Equal("metered", m.Tags["messaging.consumer.group.name"]);
            Assert.Equal(stream, m.Tags["messaging.destination.name"]);
        });

        var processed = collector.Of("messaging.process.duration");
        Assert.Equal(3, processed.Count);
        Assert.All(processed, m =>
        {
            Assert.Equal("s", m.Instrument.Unit);
            Assert.Equal(SemconvBuckets, ((Histogram<double>)m.Instrument).Advice!.HistogramBucketBoundaries!);
            Assert.Equal("rabbitmq", m.Tags["messaging.system"]);
            Assert.Equal("metered", m.Tags["messaging.consumer.group.name"]);
            Assert.False(m.Tags.ContainsKey("error.type"));
        });

        // The vendor extras exist under rabbitmq.stream.*.
        foreach (var name in new[] { "rabbitmq.stream.consumer.lag", "rabbitmq.stream.reconnects", "rabbitmq.stream.publish.errors", "rabbitmq.stream.producer.in_flight", "rabbitmq.stream.consumer.dead_lettered" })
        {
            Assert.True(collector.Instruments.ContainsKey(name), name);
        }

        Assert.Equal(StreamsTelemetry.SchemaUrl, collector.Instruments["messaging.process.duration"].Meter.TelemetrySchemaUrl);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Failed_publish_and_dead_letters_are_counted_with_error_type()
    {
        var stream = BrokerFixture.UniqueName("otel-errors");
        using var collector = new TelemetryCollector(stream, traces: false);
        var probe = new Probe();
        probe.Poison["dead"] = true;
        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c =>
        {
            c.Stream = stream;
            c.FailurePolicy = new HandlerFailurePolicy { MaxRetries = 0, AfterRetries = FailureAction.DeadLetter };
        }), probe: probe);
        await host.StartAsync(Ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        await publisher.PublishAsync(stream, new Order("dead", 1), Ct);
        await Assert.ThrowsAsync<StreamPublishException>(() => publisher.PublishAsync(stream + "-missing", new Order("x", 1), Ct));

        await TestHost.WaitUntilAsync(() => collector.Of("rabbitmq.stream.consumer.dead_lettered").Sum(m => m.Value) == 1, "dead letter counted");
        var failedSend = Assert.Single(collector.Of("messaging.client.sent.messages"), m => (string?)m.Tags["messaging.destination.name"] == stream + "-missing");
        Assert.NotNull(failedSend.Tags["error.type"]);
        Assert.Single(collector.Of("rabbitmq.stream.publish.errors"));
        var errorDuration = Assert.Single(collector.Of("messaging.process.duration"));
        Assert.Equal(typeof(InvalidOperationException).FullName, errorDuration.Tags["error.type"]);
        await host.StopAsync(Ct);
    }
}
