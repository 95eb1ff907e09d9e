using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Hosting.Tests.Consuming;
using Streams.Hosting.Tests.Harness;
using Streams.Hosting.Tests.Integration;
using Streams.Testing;

namespace Streams.Hosting.Tests.Telemetry;

[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class TracingTests(BrokerFixture broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<Activity> WaitForAsync(TelemetryCollector collector, Func<Activity, bool> match, string what)
    {
        Activity? found = null;
        await TestHost.WaitUntilAsync(() => (found = collector.Activities.FirstOrDefault(match)) is not null, what);
        return found!;
    }

    [Fact]
    public async Task Publish_then_process_makes_a_send_span_and_a_process_span_linked_to_it()
    {
        var stream = BrokerFixture.UniqueName("otel-trace");
        using var collector = new TelemetryCollector(stream, metrics: false);
        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "traced"; }));
        await host.StartAsync(Ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();

        string requestTraceId;
        using (var request = TelemetryCollector.TestSource.StartActivity("POST /orders", ActivityKind.Server))
        {
            Assert.NotNull(request);
            requestTraceId = request.TraceId.ToString();
            await publisher.PublishAsync(stream, new Order("o-1", 1), new PublishOptions { MessageId = "o-1" }, Ct);
        }

        var received = await host.Services.GetRequiredService<Probe>().TakeAsync(1);
        var send = await WaitForAsync(collector, a => a.Kind == ActivityKind.Producer, "send span");
        var process = await WaitForAsync(collector, a => a.Kind == ActivityKind.Consumer, "process span");

        // send {stream}: a child of the request, until the confirm.
        Assert.Equal($"send {stream}", send.DisplayName);
        Assert.Equal(requestTraceId, send.TraceId.ToString());
        Assert.Equal("rabbitmq", send.GetTagItem("messaging.system"));
        Assert.Equal("send", send.GetTagItem("messaging.operation.name"));
        Assert.Equal("send", send.GetTagItem("messaging.operation.type"));
        Assert.Equal(stream, send.GetTagItem("messaging.destination.name"));
        Assert.Equal("o-1", send.GetTagItem("messaging.message.id"));
        Assert.Equal(ActivityStatusCode.Unset, send.Status);

        // The W3C context travelled in the application properties.
        Assert.Equal(send.Id, received[0].Context.Headers["traceparent"]);

        // process {stream}: linked (not parented) to the send span by default.
        Assert.Equal($"process {stream}", process.DisplayName);
        Assert.NotEqual(send.TraceId, process.TraceId);
        var link = Assert.Single(process.Links);
        Assert.Equal(send.TraceId, link.Context.TraceId);
        Assert.Equal(send.SpanId, link.Context.SpanId);
        Assert.Equal("rabbitmq", process.GetTagItem("messaging.system"));
        Assert.Equal("process", process.GetTagItem("messaging.operation.name"));
        Assert.Equal("process", process.GetTagItem("messaging.operation.type"));
        Assert.Equal(stream, process.GetTagItem("messaging.destination.name"));
        Assert.Equal("traced", process.GetTagItem("messaging.consumer.group.name"));
        Assert.Equal("o-1", process.GetTagItem("messaging.message.id"));
        Assert.Equal((long)received[0].Context.Offset, process.GetTagItem("messaging.rabbitmq.stream.offset"));
        Assert.Null(process.GetTagItem("error.type"));

        // The offset store is a settle span.
        await host.StopAsync(Ct);
        var settle = await WaitForAsync(collector, a => a.DisplayName == $"settle {stream}", "settle span");
        Assert.Equal("settle", settle.GetTagItem("messaging.operation.type"));
        Assert.Equal("traced", settle.GetTagItem("messaging.consumer.group.name"));
    }

    [Fact]
    public async Task Parent_relation_makes_the_process_span_a_child_of_the_send_span()
    {
        var stream = BrokerFixture.UniqueName("otel-parent");
        using var collector = new TelemetryCollector(stream, metrics: false);
        using var host = TestHost.Build(broker, b => b.AddStream(stream)
            .AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "child"; })
            .ConfigureTelemetry(o => o.ProcessSpanRelation = ProcessSpanRelation.Parent));
        await host.StartAsync(Ct);
        await host.Services.GetRequiredService<IStreamPublisher>().PublishAsync(stream, new Order("p-1", 1), Ct);
        await host.Services.GetRequiredService<Probe>().TakeAsync(1);

        var send = await WaitForAsync(collector, a => a.Kind == ActivityKind.Producer, "send span");
        var process = await WaitForAsync(collector, a => a.Kind == ActivityKind.Consumer, "process span");
        Assert.Equal(send.TraceId, process.TraceId);
        Assert.Equal(send.SpanId, process.ParentSpanId);
        Assert.Single(process.Links);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task A_failing_handler_sets_error_type_on_each_attempt_span()
    {
        var stream = BrokerFixture.UniqueName("otel-error");
        using var collector = new TelemetryCollector(stream, metrics: false);
        var probe = new Probe();
        probe.Poison["bad"] = true;
        using var host = HarnessHost.Build(b => b.AddStream(stream).AddConsumer<OrderHandler>(c =>
        {
            c.Stream = stream;
            c.FailurePolicy = new HandlerFailurePolicy { MaxRetries = 1, RetryDelay = TimeSpan.Zero, AfterRetries = FailureAction.Skip };
        }), probe: probe);
        await host.StartAsync(Ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        await publisher.PublishAsync(stream, new Order("bad", 1), Ct);
        await publisher.PublishAsync(stream, new Order("good", 2), Ct);
        await probe.TakeAsync(1);

        await TestHost.WaitUntilAsync(() => collector.Activities.Count(a => a.Kind == ActivityKind.Consumer) >= 3, "three process spans");
        var failed = collector.Activities.Where(a => a.Kind == ActivityKind.Consumer && a.Status == ActivityStatusCode.Error).ToList();
        Assert.Equal(2, failed.Count);
        Assert.All(failed, a => Assert.Equal(typeof(InvalidOperationException).FullName, a.GetTagItem("error.type")));
        Assert.Contains(failed, a => a.GetTagItem("messaging.rabbitmq.stream.delivery_attempt") is 2);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Super_stream_spans_name_the_super_stream_and_the_partition()
    {
        var superStream = BrokerFixture.UniqueName("otel-ss");
        using var collector = new TelemetryCollector(superStream, metrics: false);
        using var host = TestHost.Build(broker, b => b
            .AddSuperStream(superStream, 2)
            .AddConsumer<OrderHandler>(c => { c.Stream = superStream; c.SuperStream = true; c.Name = "ss"; }));
        await host.StartAsync(Ct);
        await host.Services.GetRequiredService<IStreamPublisher>().PublishAsync(superStream, new Order("k", 1), new PublishOptions { RoutingKey = "k" }, Ct);
        var received = await host.Services.GetRequiredService<Probe>().TakeAsync(1);
        var partition = received[0].Context.Partition;
        Assert.NotNull(partition);

        var send = await WaitForAsync(collector, a => a.Kind == ActivityKind.Producer, "send span");
        var process = await WaitForAsync(collector, a => a.Kind == ActivityKind.Consumer, "process span");
        Assert.Equal($"send {superStream}", send.DisplayName);
        Assert.Equal(superStream, send.GetTagItem("messaging.destination.name"));
        Assert.Equal(partition, send.GetTagItem("messaging.destination.partition.id"));
        Assert.Equal($"process {superStream}", process.DisplayName);
        Assert.Equal(partition, process.GetTagItem("messaging.destination.partition.id"));
        Assert.Equal(send.SpanId, Assert.Single(process.Links).Context.SpanId);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task The_ambient_trace_context_travels_with_the_message()
    {
        var stream = BrokerFixture.UniqueName("otel-ambient");
        using var requests = new ActivityListener
        {
            ShouldListenTo = s => s.Name == TelemetryCollector.TestSourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(requests);
        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c => c.Stream = stream));
        await host.StartAsync(Ct);
        string traceId;
        using (var request = TelemetryCollector.TestSource.StartActivity("POST /orders", ActivityKind.Server))
        {
            traceId = request!.TraceId.ToString();
            await host.Services.GetRequiredService<IStreamPublisher>().PublishAsync(stream, new Order("a", 1), Ct);
        }

        var received = await host.Services.GetRequiredService<Probe>().TakeAsync(1);

        // The send span's context when something listens to Streams.Hosting, else the request's: the same trace either way.
        Assert.True(ActivityContext.TryParse(received[0].Context.Headers["traceparent"] as string, null, out var context));
        Assert.Equal(traceId, context.TraceId.ToString());
        await host.StopAsync(Ct);
    }
}
