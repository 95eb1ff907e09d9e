using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;
using Streams.Client;
using Streams.Hosting.Tests.Consuming;
using Streams.Hosting.Tests.Integration;
using Streams.Testing;

namespace Streams.Hosting.Tests.Telemetry;

[Trait("Category", "Broker")]
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
        var probe = new Probe();
        probe.Poison["dead"] = true;
        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c =>
        {
            c.Stream = stream;
            c.FailurePolicy = new HandlerFailurePolicy { MaxRetries = 0, AfterRetries = FailureAction.DeadLetter };
        }), probe: probe);

        // MetricCollector<T> (Microsoft.Extensions.Diagnostics.Testing) scoped to this host's meter factory: only its measurements.
        var meters = host.Services.GetRequiredService<IMeterFactory>();
        using var deadLettered = new MetricCollector<long>(meters, StreamsTelemetry.MeterName, "rabbitmq.stream.consumer.dead_lettered");
        using var sent = new MetricCollector<long>(meters, StreamsTelemetry.MeterName, "messaging.client.sent.messages");
        using var publishErrors = new MetricCollector<long>(meters, StreamsTelemetry.MeterName, "rabbitmq.stream.publish.errors");
        using var processDuration = new MetricCollector<double>(meters, StreamsTelemetry.MeterName, "messaging.process.duration");
        await host.StartAsync(Ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        await publisher.PublishAsync(stream, new Order("dead", 1), Ct);
        await Assert.ThrowsAsync<StreamPublishException>(() => publisher.PublishAsync(stream + "-missing", new Order("x", 1), Ct));

        await deadLettered.WaitForMeasurementsAsync(1, Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(1, deadLettered.GetMeasurementSnapshot().EvaluateAsCounter());
        var failedSend = Assert.Single(sent.GetMeasurementSnapshot(), m => (string?)m.Tags["messaging.destination.name"] == stream + "-missing");
        Assert.NotNull(failedSend.Tags["error.type"]);
        Assert.Equal(stream + "-missing", Assert.Single(publishErrors.GetMeasurementSnapshot()).Tags["messaging.destination.name"]);
        var errorDuration = Assert.Single(processDuration.GetMeasurementSnapshot());
        Assert.Equal(typeof(InvalidOperationException).FullName, errorDuration.Tags["error.type"]);
        await host.StopAsync(Ct);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task Messages_a_filtered_consumer_drops_are_counted_and_logged_at_debug(int maxConcurrency)
    {
        var stream = await OneChunkOfFilteredMessagesAsync();
        using var collector = new TelemetryCollector(stream, traces: false);
        var logs = new FakeLogCollector();
        var probe = new Probe();
        using var host = TestHost.Build(broker, b =>
        {
            b.Services.AddLogging(l => l.AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Debug));
            b.AddConsumer<TextHandler>(c => { c.Stream = stream; c.Name = "filtering"; c.FilterValues = ["eu"]; c.MaxConcurrency = maxConcurrency; });
        }, probe: probe);
        await host.StartAsync(Ct);
        var received = await probe.TakeAsync(2);
        Assert.Equal(["eu-0", "eu-3"], received.Select(r => (string)r.Message).Order(StringComparer.Ordinal));
        var monitor = host.Services.GetRequiredService<IStreamConsumerMonitor>();
        await TestHost.WaitUntilAsync(() => monitor.GetConsumers()[0].LastProcessedOffset == 3, "offset 3 processed");

        var status = Assert.Single(monitor.GetConsumers());
        Assert.Equal((2L, 2L), (status.HandledCount, status.FilteredCount));

        collector.RecordObservables();
        var filtered = collector.Of("rabbitmq.stream.consumer.filtered");
        var last = filtered[^1];
        Assert.Equal(2, last.Value);
        Assert.IsType<ObservableCounter<long>>(last.Instrument);
        Assert.Equal("{message}", last.Instrument.Unit);
        Assert.Equal("rabbitmq", last.Tags["messaging.system"]);
        Assert.Equal("process", last.Tags["messaging.operation.name"]);
        Assert.Equal("filtering", last.Tags["messaging.consumer.group.name"]);

        var dropped = logs.GetSnapshot().Where(e => e.Id.Id == 30).ToList();
        Assert.Equal(2, dropped.Count);
        Assert.All(dropped, e => Assert.Equal(LogLevel.Debug, e.Level));
        Assert.Contains($"{stream}@1 dropped by the consumer's filter (filter value: us; wanted: eu;", dropped[0].Message, StringComparison.Ordinal);
        Assert.Contains($"{stream}@2 dropped by the consumer's filter (filter value: (null); wanted: eu;", dropped[1].Message, StringComparison.Ordinal);
        await host.StopAsync(Ct);
    }

    /// <summary>
    /// A new stream holding "eu-0" (eu), "us-1" (us), "none-2" (no filter value) and "eu-3" (eu) in one chunk, so the
    /// broker sends the chunk whole to an "eu" consumer and the consumer itself drops offsets 1 and 2.
    /// </summary>
    /// <remarks>
    /// The broker writes each message of a publish frame on its own and closes a chunk whenever its writer has nothing
    /// queued, so under load one batch can end up in two or three chunks (a chunk of "us-1" alone is then skipped by the
    /// broker's filter and never reaches the consumer). The setup checks the chunk layout and starts over on a new stream
    /// when the batch was split.
    /// </remarks>
    private async Task<string> OneChunkOfFilteredMessagesAsync()
    {
        static Message Text(string text, string? filter)
        {
            var message = new Message(Encoding.UTF8.GetBytes(text)) { Properties = new MessageProperties { MessageId = text } };
            if (filter is not null)
            {
                StreamFilter.SetValue(message, filter);
            }

            return message;
        }

        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        var chunks = new List<ulong?>();
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var stream = BrokerFixture.UniqueName("otel-filtered");
            await system.CreateStreamAsync(stream, new Streams.Client.StreamSpec { FilterSizeBytes = 32 }, Ct);
            await using (var producer = await system.CreateProducerAsync(new ProducerOptions(stream) { FilterValue = StreamFilter.ProducerFilterValue }, Ct))
            {
                await producer.SendBatchAsync([Text("eu-0", "eu"), Text("us-1", "us"), Text("none-2", null), Text("eu-3", "eu")], Ct);
            }

            var lastChunk = (await system.GetStreamStatisticsAsync(stream, Ct)).LastChunkId;
            if (lastChunk == 0)
            {
                return stream; // one chunk, starting at offset 0
            }

            chunks.Add(lastChunk);
            await system.DeleteStreamAsync(stream, Ct);
        }

        throw new InvalidOperationException($"The broker split every batch of 4 messages into several chunks (last chunk ids: {string.Join(", ", chunks)}).");
    }
}
