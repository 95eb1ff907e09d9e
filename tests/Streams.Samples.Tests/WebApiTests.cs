using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Streams.Testing;
using WebApi.Orders;

namespace Streams.Samples.Tests;

/// <summary>samples/WebApi in process (WebApplicationFactory) against the real broker, on a stream of its own.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class WebApiTests(BrokerFixture fixture)
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    private WebApplicationFactory<Program> CreateApp(string stream) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseSetting("RabbitStreams:ConnectionString", fixture.Uri());
            web.UseSetting("Orders:Stream", stream);
        });

    [Fact]
    public async Task Posted_orders_are_accepted_then_readable_once_projected()
    {
        var stream = BrokerFixture.UniqueName("orders");
        var ct = TestContext.Current.CancellationToken;
        try
        {
            await using var app = CreateApp(stream);
            using var client = app.CreateClient();

            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/orders/o-1", ct)).StatusCode);

            for (var i = 1; i <= 3; i++)
            {
                var response = await client.PostAsJsonAsync("/orders", new { id = $"o-{i}", customer = "ada", amount = 12.5m * i }, ct);
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                Assert.Equal($"/orders/o-{i}", response.Headers.Location?.AbsolutePath);
            }

            var offsets = new List<ulong>();
            for (var i = 1; i <= 3; i++)
            {
                var order = await WaitForOrderAsync(client, $"o-{i}");
                Assert.Equal("ada", order.Customer);
                Assert.Equal(12.5m * i, order.Amount);
                offsets.Add(order.Offset);
            }

            // The orders went through the stream, in the order they were posted.
            Assert.Equal([0UL, 1UL, 2UL], offsets);
        }
        finally
        {
            await fixture.DeleteStreamsAsync(stream);
        }
    }

    [Fact]
    public async Task Health_is_healthy_once_connected_and_consuming()
    {
        var stream = BrokerFixture.UniqueName("orders");
        var ct = TestContext.Current.CancellationToken;
        try
        {
            await using var app = CreateApp(stream);
            using var client = app.CreateClient();
            var deadline = DateTime.UtcNow + HangGuard;
            string body;
            while ((body = await (await client.GetAsync("/health", ct)).Content.ReadAsStringAsync(ct)) != "Healthy" && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, ct);
            }

            Assert.Equal("Healthy", body);
        }
        finally
        {
            await fixture.DeleteStreamsAsync(stream);
        }
    }

    [Fact]
    public async Task The_status_endpoint_lists_the_projection_consumer()
    {
        var stream = BrokerFixture.UniqueName("orders");
        var ct = TestContext.Current.CancellationToken;
        try
        {
            await using var app = CreateApp(stream);
            using var client = app.CreateClient();
            var response = await client.PostAsJsonAsync("/orders", new { id = "s-1", customer = "ada", amount = 1 }, ct);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            await WaitForOrderAsync(client, "s-1");

            using var status = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/streams", ct));
            var consumer = Assert.Single(status.RootElement.GetProperty("consumers").EnumerateArray());
            Assert.Equal(typeof(OrderProjection).FullName, consumer.GetProperty("handler").GetString());
            Assert.Equal(stream, consumer.GetProperty("stream").GetString());
            Assert.Equal("Running", consumer.GetProperty("state").GetString());
            var producer = Assert.Single(status.RootElement.GetProperty("producers").EnumerateArray());
            Assert.Equal(stream, producer.GetProperty("stream").GetString());
        }
        finally
        {
            await fixture.DeleteStreamsAsync(stream);
        }
    }

    [Fact]
    public async Task Invalid_orders_are_rejected_without_publishing()
    {
        var stream = BrokerFixture.UniqueName("orders");
        var ct = TestContext.Current.CancellationToken;
        try
        {
            await using var app = CreateApp(stream);
            using var client = app.CreateClient();
            var response = await client.PostAsJsonAsync("/orders", new { id = "bad", amount = 0 }, ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);

            await using var system = await fixture.ConnectAsync();
            var stats = await system.GetStreamStatisticsAsync(stream, ct);
            Assert.Null(stats.CommittedChunkId);
        }
        finally
        {
            await fixture.DeleteStreamsAsync(stream);
        }
    }

    [Fact]
    public async Task A_restarted_api_rebuilds_its_in_memory_read_model_from_the_stream()
    {
        var stream = BrokerFixture.UniqueName("orders");
        var ct = TestContext.Current.CancellationToken;
        try
        {
            await using (var first = CreateApp(stream))
            {
                using var client = first.CreateClient();
                var response = await client.PostAsJsonAsync("/orders", new { id = "kept", customer = "grace", amount = 7 }, ct);
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                await WaitForOrderAsync(client, "kept");
            }

            await using var second = CreateApp(stream);
            using var again = second.CreateClient();
            var order = await WaitForOrderAsync(again, "kept");
            Assert.Equal("grace", order.Customer);
        }
        finally
        {
            await fixture.DeleteStreamsAsync(stream);
        }
    }

    /// <summary>Polls GET /orders/{id} until it answers 200 (hang guard, not a performance assertion).</summary>
    private static async Task<OrderView> WaitForOrderAsync(HttpClient client, string id)
    {
        var ct = TestContext.Current.CancellationToken;
        var deadline = DateTime.UtcNow + HangGuard;
        while (true)
        {
            using var response = await client.GetAsync($"/orders/{id}", ct);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return (await response.Content.ReadFromJsonAsync<OrderView>(ct))!;
            }

            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Order {id} was not projected within {HangGuard}.");
            }

            await Task.Delay(100, ct);
        }
    }
}

/// <summary>samples/WebApi as a user runs it: its own process, listening where <c>--urls</c> says.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class WebApiProcessTests(BrokerFixture fixture)
{
    [Fact]
    public async Task The_api_listens_where_urls_says_serves_posted_orders_and_exports_telemetry_by_otlp()
    {
        var stream = BrokerFixture.UniqueName("orders");
        var ct = TestContext.Current.CancellationToken;
        try
        {
            using var collector = new FakeOtlpCollector();
            var assembly = SampleProcess.SampleAssembly("samples/WebApi", "WebApi");
            await using var api = SampleProcess.Start(assembly,
                ["--urls", "http://127.0.0.1:0", "--Orders:Stream", stream, "--RabbitStreams:ConnectionString", fixture.Uri()],
                new Dictionary<string, string>
                {
                    ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
                    ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                    ["OTEL_SERVICE_NAME"] = "webapi-sample-test",
                },
                workingDirectory: Path.Combine(SampleProcess.RepositoryRoot, "samples/WebApi"));
            await api.WaitForOutputAsync("Now listening on: ", TimeSpan.FromMinutes(1));
            var match = System.Text.RegularExpressions.Regex.Match(api.Output, @"Now listening on: (http://127\.0\.0\.1:\d+)");
            Assert.True(match.Success, api.Output);

            using var client = new HttpClient { BaseAddress = new Uri(match.Groups[1].Value) };
            var response = await client.PostAsJsonAsync("/orders", new { id = "p-1", customer = "linus", amount = 12.5 }, ct);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            HttpResponseMessage get;
            while ((get = await client.GetAsync("/orders/p-1", ct)).StatusCode == HttpStatusCode.NotFound && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, ct);
            }

            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            var order = await get.Content.ReadFromJsonAsync<OrderView>(ct);
            Assert.Equal("linus", order!.Customer);
            Assert.Equal(12.5m, order.Amount);
            await api.InterruptAsync(TimeSpan.FromMinutes(1));
            Assert.True(api.ExitCode == 0, api.Output);

            // Stopping flushed the OpenTelemetry providers: the send/process spans and the metrics reached the collector.
            Assert.True(collector.Received.GetValueOrDefault("/v1/traces") > 0, $"no traces exported: {string.Join(", ", collector.Received)}\n{api.Output}");
            Assert.True(collector.Received.GetValueOrDefault("/v1/metrics") > 0, $"no metrics exported: {string.Join(", ", collector.Received)}\n{api.Output}");
        }
        finally
        {
            await fixture.DeleteStreamsAsync(stream);
        }
    }
}
