using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;
using Streams.Client;
using Streams.Hosting;
using Streams.Hosting.Testing.Containers;

namespace StreamsWebApi.Tests;

/// <summary>
/// The API in process (<see cref="WebApplicationFactory{TEntryPoint}"/>) against a real RabbitMQ in Docker
/// (<see cref="RabbitStreamsFixture"/>: one broker for the whole test run, reached through its mapped port). Each test
/// uses a stream of its own.
/// </summary>
public sealed class ItemsApiTests(RabbitStreamsFixture broker) : IClassFixture<RabbitStreamsFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_posted_item_is_published_handled_and_the_api_is_healthy()
    {
        var ct = TestContext.Current.CancellationToken;
        var stream = RabbitStreamsFixture.UniqueName("items-test");
        var processor = new RecordingProcessor();
        try
        {
            await using var api = CreateApi(stream, processor);
            using var client = api.CreateClient();

            // The API talks to the container's broker (a mapped port), not to a broker someone left on localhost:5552.
            Assert.Equal(broker.ConnectionString, api.Services.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value.ConnectionString);

            var response = await client.PostAsJsonAsync("/items", new { id = "1", text = "hello" }, ct);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

            var processed = await processor.Processed.Task.WaitAsync(Patience, ct);
            Assert.Equal("1", processed.Id);
            Assert.Equal("hello", processed.Text);

            Assert.Equal("Healthy", await client.GetStringAsync("/health", ct));
        }
        finally
        {
            await DeleteStreamAsync(stream);
        }
    }

    [Fact]
    public async Task An_invalid_item_is_rejected_and_nothing_is_published()
    {
        var ct = TestContext.Current.CancellationToken;
        var stream = RabbitStreamsFixture.UniqueName("items-test");
        try
        {
            await using var api = CreateApi(stream, new RecordingProcessor());
            using var client = api.CreateClient();

            var response = await client.PostAsJsonAsync("/items", new { id = "2" }, ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);

            await using var system = await StreamSystem.ConnectAsync(broker.CreateStreamSystemOptions(), ct);
            var statistics = await system.GetStreamStatisticsAsync(stream, ct);
            Assert.Null(statistics.CommittedChunkId);
        }
        finally
        {
            await DeleteStreamAsync(stream);
        }
    }

    /// <summary>
    /// OpenTelemetry as Program wires it, exported in memory: the request span is the parent of the publish's
    /// <c>send</c> span, and the handler's <c>process</c> span links to the send span (the trace context travels in
    /// the message).
    /// </summary>
    [Fact]
    public async Task A_request_is_traced_through_the_publish_to_the_handler()
    {
        var ct = TestContext.Current.CancellationToken;
        var stream = RabbitStreamsFixture.UniqueName("items-test");
        var processor = new RecordingProcessor();
        var spans = new List<Activity>();
        try
        {
            var api = CreateApi(stream, processor, services => services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(spans)));
            await using (api)
            {
                using var client = api.CreateClient();
                var response = await client.PostAsJsonAsync("/items", new { id = "3", text = "traced" }, ct);
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                await processor.Processed.Task.WaitAsync(Patience, ct);
            }

            // Disposed: the host stopped (the handler's span ended) and the tracer provider flushed.
            var request = Assert.Single(spans, s => s.Kind == ActivityKind.Server);
            var send = Assert.Single(spans, s => s.DisplayName == $"send {stream}");
            var process = Assert.Single(spans, s => s.DisplayName == $"process {stream}");
            Assert.Equal(request.TraceId, send.TraceId);
            Assert.Equal(request.SpanId, send.ParentSpanId);
            var link = Assert.Single(process.Links);
            Assert.Equal(send.SpanId, link.Context.SpanId);
            Assert.Equal(send.TraceId, link.Context.TraceId);
        }
        finally
        {
            await DeleteStreamAsync(stream);
        }
    }

    private WebApplicationFactory<Program> CreateApi(string stream, RecordingProcessor processor, Action<IServiceCollection>? configure = null) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            foreach (var (key, value) in broker.Container.ToConfiguration())
            {
                web.UseSetting(key, value);
            }

            web.UseSetting($"{ItemsOptions.SectionName}:Stream", stream);
            web.ConfigureServices(services =>
            {
                services.AddSingleton<IItemProcessor>(processor); // the last registration wins: replaces the logging processor
                configure?.Invoke(services);
            });
        });

    private async Task DeleteStreamAsync(string stream)
    {
        await using var system = await StreamSystem.ConnectAsync(broker.CreateStreamSystemOptions(), CancellationToken.None);
        await system.DeleteStreamAsync(stream, CancellationToken.None);
    }

    private sealed class RecordingProcessor : IItemProcessor
    {
        public TaskCompletionSource<ItemSubmitted> Processed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task ProcessAsync(ItemSubmitted item, CancellationToken cancellationToken)
        {
            Processed.TrySetResult(item);
            return Task.CompletedTask;
        }
    }
}
