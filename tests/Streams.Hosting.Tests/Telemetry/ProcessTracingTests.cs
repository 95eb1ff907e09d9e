using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Streams.Client;
using Streams.Hosting.Tests.Integration;
using Streams.Testing;

namespace Streams.Hosting.Tests.Telemetry;

/// <summary>
/// <see cref="StreamsTelemetryOptions.ProcessTracing"/>: which messages get a process span, decided before an Activity
/// exists (the collector samples everything it is offered, so every Activity created is a span it sees).
/// </summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class ProcessTracingTests(BrokerFixture broker)
{
    private const string SampledParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    private const string UnsampledParent = "00-1af7651916cd43dd8448eb211c80319c-c7ad6b7169203331-00";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Three messages: one whose context says sampled, one whose context says not sampled, one without a context.</summary>
    private async Task<string> StreamWithThreeContextsAsync(string prefix)
    {
        var stream = BrokerFixture.UniqueName(prefix);
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        await system.CreateStreamAsync(stream, null, Ct);
        await using var producer = await system.CreateProducerAsync(new ProducerOptions(stream), Ct);
        await producer.SendBatchAsync(
        [
            Traced("sampled", SampledParent),
            Traced("unsampled", UnsampledParent),
            new Message(Encoding.UTF8.GetBytes("none")),
        ], Ct);
        return stream;

        static Message Traced(string body, string traceParent) =>
            new(Encoding.UTF8.GetBytes(body)) { ApplicationProperties = new Dictionary<string, object?> { ["traceparent"] = traceParent } };
    }

    private async Task<IReadOnlyList<Activity>> ProcessSpansAsync(string prefix, Action<StreamsTelemetryOptions> tracing, bool batch = false)
    {
        var stream = await StreamWithThreeContextsAsync(prefix);
        using var collector = new TelemetryCollector(stream, metrics: false);
        using var host = TestHost.Build(broker, b =>
        {
            b.ConfigureTelemetry(tracing);
            if (batch)
            {
                b.AddConsumer<PoisonableBatchHandler>(c => { c.Stream = stream; c.Name = "traced"; });
            }
            else
            {
                b.AddConsumer<RawHandler>(c => { c.Stream = stream; c.Name = "traced"; });
            }
        });
        await host.StartAsync(Ct);
        var received = await host.Services.GetRequiredService<Probe>().TakeAsync(3);
        Assert.Equal(3, received.Count);
        await host.StopAsync(Ct);
        return [.. collector.Activities.Where(a => a.Kind == ActivityKind.Consumer)];
    }

    [Fact]
    public async Task All_traces_every_message_whatever_its_context_says()
    {
        var spans = await ProcessSpansAsync("trace-all", o => o.ProcessTracing = ProcessTracing.All);
        Assert.Equal(3, spans.Count);
    }

    [Fact]
    public async Task Sampled_with_ratio_zero_traces_only_the_message_whose_context_says_sampled()
    {
        var spans = await ProcessSpansAsync("trace-sampled0", o =>
        {
            o.ProcessTracing = ProcessTracing.Sampled;
            o.ProcessSamplingRatio = 0;
        });
        var span = Assert.Single(spans);
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", Assert.Single(span.Links).Context.TraceId.ToString());
        Assert.Equal(0L, span.GetTagItem("messaging.rabbitmq.stream.offset"));
    }

    [Fact]
    public async Task Sampled_with_ratio_one_traces_the_sampled_and_the_context_free_message_never_the_unsampled_one()
    {
        var spans = await ProcessSpansAsync("trace-sampled1", o => o.ProcessTracing = ProcessTracing.Sampled);
        Assert.Equal([0L, 2L], spans.Select(s => (long)s.GetTagItem("messaging.rabbitmq.stream.offset")!).Order());
    }

    [Fact]
    public async Task Sampled_with_the_parent_relation_continues_the_producers_sampled_trace()
    {
        var spans = await ProcessSpansAsync("trace-parent", o =>
        {
            o.ProcessTracing = ProcessTracing.Sampled;
            o.ProcessSamplingRatio = 0;
            o.ProcessSpanRelation = ProcessSpanRelation.Parent;
        });
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", Assert.Single(spans).TraceId.ToString());
    }

    [Fact]
    public async Task None_creates_no_process_span()
    {
        var spans = await ProcessSpansAsync("trace-none", o => o.ProcessTracing = ProcessTracing.None);
        Assert.Empty(spans);
    }

    [Fact]
    public async Task A_batch_is_one_span_traced_when_one_of_its_messages_says_sampled()
    {
        var spans = await ProcessSpansAsync("trace-batch", o =>
        {
            o.ProcessTracing = ProcessTracing.Sampled;
            o.ProcessSamplingRatio = 0;
        }, batch: true);

        // However the broker cut the chunks, the batch holding offset 0 is traced and links its sampled context.
        Assert.NotEmpty(spans);
        Assert.All(spans, s => Assert.Contains(s.Links, l => l.Context.TraceId.ToString() == "0af7651916cd43dd8448eb211c80319c"));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void A_sampling_ratio_outside_zero_to_one_fails_the_start(double ratio)
    {
        var services = new ServiceCollection();
        services.AddRabbitStreams(_ => { })
            .ConfigureTelemetry(o => o.ProcessSamplingRatio = ratio);
        using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<StreamsTelemetryOptions>>().Value);
        Assert.Contains("ProcessSamplingRatio", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_undefined_tracing_mode_fails_the_start()
    {
        var services = new ServiceCollection();
        services.AddRabbitStreams(_ => { })
            .ConfigureTelemetry(o => o.ProcessTracing = (ProcessTracing)7);
        using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<StreamsTelemetryOptions>>().Value);
        Assert.Contains("ProcessTracing", error.Message, StringComparison.Ordinal);
    }
}

/// <summary>Records raw bodies.</summary>
[StreamConsumer("set-by-test")]
internal sealed class RawHandler(Probe probe) : IStreamHandler<byte[]>
{
    public Task HandleAsync(byte[] message, StreamContext context, CancellationToken cancellationToken)
    {
        probe.Record(message, context);
        return Task.CompletedTask;
    }
}
