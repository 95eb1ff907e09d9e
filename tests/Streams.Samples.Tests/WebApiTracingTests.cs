using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;
using Streams.Hosting;
using Streams.Testing;

namespace Streams.Samples.Tests;

/// <summary>
/// How a request's trace reaches the handler, through OpenTelemetry's in-memory exporter (the SDK as applications
/// wire it: <c>AddOpenTelemetry().WithTracing(…)</c>), against the real broker.
/// </summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class WebApiTracingTests(BrokerFixture fixture)
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    /// <summary>
    /// samples/WebApi as it is wired: POST /orders is the ASP.NET Core request span, the publish's <c>send</c> span is
    /// its child (same trace), and the projection's <c>process</c> span is linked to the send span (the default,
    /// <see cref="ProcessSpanRelation.Link"/>: a trace of its own) or its child (<see cref="ProcessSpanRelation.Parent"/>:
    /// request → send → process in one trace).
    /// </summary>
    [Theory]
    [InlineData(ProcessSpanRelation.Link)]
    [InlineData(ProcessSpanRelation.Parent)]
    public async Task A_posted_order_traces_request_then_send_then_process(ProcessSpanRelation relation)
    {
        var stream = BrokerFixture.UniqueName("orders-traced");
        var ct = TestContext.Current.CancellationToken;
        var spans = new List<Activity>();
        try
        {
            var app = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
            {
                web.UseSetting("RabbitStreams:ConnectionString", fixture.Uri());
                web.UseSetting("Orders:Stream", stream);
                web.ConfigureServices(services =>
                {
                    services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans));
                    services.Configure<StreamsTelemetryOptions>(o => o.ProcessSpanRelation = relation);
                });
            });
            await using (app)
            {
                using var client = app.CreateClient();
                var response = await client.PostAsJsonAsync("/orders", new { id = "t-1", customer = "ada", amount = 3 }, ct);
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                await WaitUntilAsync(() => app.Services.GetRequiredService<WebApi.Orders.OrderReadModel>().Find("t-1") is not null, "order t-1 projected");
            }

            // Disposed: the host stopped (the handler's span ended) and the tracer provider flushed; nothing exports any more.
            var exported = spans.ToArray();
            var process = Assert.Single(exported, a => a.DisplayName == $"process {stream}");
            var request = Assert.Single(exported, a => a.Kind == ActivityKind.Server && Equals(a.GetTagItem("http.request.method"), "POST"));
            Assert.Equal("Microsoft.AspNetCore", request.Source.Name);
            Assert.Equal("POST orders", request.DisplayName);

            var send = Assert.Single(exported, a => a.DisplayName == $"send {stream}");
            Assert.Equal(ActivityKind.Producer, send.Kind);
            Assert.Equal(request.TraceId, send.TraceId);
            Assert.Equal(request.SpanId, send.ParentSpanId);

            Assert.Equal(ActivityKind.Consumer, process.Kind);
            var link = Assert.Single(process.Links);
            Assert.Equal(send.TraceId, link.Context.TraceId);
            Assert.Equal(send.SpanId, link.Context.SpanId);
            if (relation == ProcessSpanRelation.Parent)
            {
                Assert.Equal(request.TraceId, process.TraceId);
                Assert.Equal(send.SpanId, process.ParentSpanId);
            }
            else
            {
                Assert.NotEqual(request.TraceId, process.TraceId);
                Assert.Equal(default, process.ParentSpanId);
            }
        }
        finally
        {
            await fixture.DeleteStreamsAsync(stream);
        }
    }

    /// <summary>
    /// The claim the docs make, checked: inside a request, without ASP.NET Core instrumentation, ASP.NET Core still
    /// starts an <see cref="Activity"/> for the request (for log correlation) but no provider samples it, so it is
    /// not recorded; the default <c>ParentBased(AlwaysOn)</c> sampler follows that parent and drops the <c>send</c>
    /// span (no Activity is even created for it). The trace context still travels: the handler's <c>process</c> span (a root, linked) is recorded by the
    /// root sampler and links into the request's unsampled trace. With the instrumentation the request span is
    /// recorded and the send span with it.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_publish_inside_a_request_is_traced_only_when_the_request_is(bool aspNetCoreInstrumentation)
    {
        var stream = BrokerFixture.UniqueName("request-publish");
        var ct = TestContext.Current.CancellationToken;
        var spans = new List<Activity>();
        var requestActivity = new TaskCompletionSource<(string Name, ActivityTraceId TraceId, ActivitySpanId SpanId, bool Recorded)>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            var builder = WebApplication.CreateBuilder();
            builder.WebHost.UseTestServer();
            builder.Services.AddRabbitStreams(o => o.ConnectionString = fixture.Uri())
                .AddStream(stream)
                .AddConsumer<RecordingHandler>(c => c.Stream = stream);
            builder.Services.AddSingleton<RecordingHandler.Received>();
            builder.Services.AddOpenTelemetry().WithTracing(tracing =>
            {
                tracing.AddRabbitStreamsInstrumentation().AddInMemoryExporter(spans);
                if (aspNetCoreInstrumentation)
                {
                    tracing.AddAspNetCoreInstrumentation();
                }
            });
            var app = builder.Build();
            await using (app)
            {
                app.MapPost("/publish", async (IStreamPublisher publisher, CancellationToken requestAborted) =>
                {
                    var current = Activity.Current!;
                    requestActivity.TrySetResult((current.OperationName, current.TraceId, current.SpanId, current.Recorded));
                    await publisher.PublishAsync(stream, "hello", requestAborted);
                    return Results.Accepted();
                });
                await app.StartAsync(ct);
                using var client = app.GetTestClient();
                Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/publish", null, ct)).StatusCode);
                var received = app.Services.GetRequiredService<RecordingHandler.Received>();
                await WaitUntilAsync(() => received.Messages.Contains("hello"), "message handled");
                await app.StopAsync(ct);
            }

            var exported = spans.ToArray();
            var process = Assert.Single(exported, a => a.DisplayName == $"process {stream}");
            var request = await requestActivity.Task;
            Assert.Equal("Microsoft.AspNetCore.Hosting.HttpRequestIn", request.Name);
            Assert.Equal(aspNetCoreInstrumentation, request.Recorded);
            var link = Assert.Single(process.Links);
            Assert.Equal(request.TraceId, link.Context.TraceId);
            Assert.Equal(aspNetCoreInstrumentation, link.Context.TraceFlags.HasFlag(ActivityTraceFlags.Recorded));
            Assert.Equal(default, process.ParentSpanId);
            if (aspNetCoreInstrumentation)
            {
                var send = Assert.Single(exported, a => a.DisplayName == $"send {stream}");
                Assert.Equal(request.SpanId, send.ParentSpanId);
                Assert.Equal(send.SpanId, link.Context.SpanId);
            }
            else
            {
                // No send span at all (the SDK creates no Activity for a dropped child of a local parent): the message
                // carries the request Activity's own context, unsampled.
                Assert.DoesNotContain(exported, a => a.DisplayName == $"send {stream}");
                Assert.DoesNotContain(exported, a => a.TraceId == request.TraceId);
                Assert.Equal(request.SpanId, link.Context.SpanId);
            }
        }
        finally
        {
            await fixture.DeleteStreamsAsync(stream);
        }
    }

    /// <summary>Polls until the condition holds (hang guard, not a performance assertion).</summary>
    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + HangGuard;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Not {what} within {HangGuard}.");
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>A handler of the raw string messages the minimal API publishes.</summary>
    public sealed class RecordingHandler(RecordingHandler.Received received) : IStreamHandler<string>
    {
        public Task HandleAsync(string message, StreamContext context, CancellationToken cancellationToken)
        {
            received.Messages.Enqueue(message);
            return Task.CompletedTask;
        }

        public sealed class Received
        {
            public System.Collections.Concurrent.ConcurrentQueue<string> Messages { get; } = new();
        }
    }
}
