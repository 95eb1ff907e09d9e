using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Streams.Hosting;
using Streams.Testing;
using WebApi.Operations;
using WebApi.Orders;

namespace Streams.Samples.Tests;

/// <summary>
/// samples/WebApi's operations endpoints and dashboard, protected by the operator API key (the development key of
/// appsettings.Development.json), in process against the real broker.
/// </summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class WebApiOperationsTests(BrokerFixture fixture)
{
    private const string Key = OperationsOptions.DevelopmentKey;
    private const string Confirmations = OrderConfirmationSender.ConsumerName;
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private WebApplicationFactory<Program> CreateApp(string stream, string environment = "Development", string? apiKey = null) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment(environment);
            web.UseSetting("RabbitStreams:ConnectionString", fixture.Uri());
            web.UseSetting("Orders:Stream", stream);
            if (apiKey is not null)
            {
                web.UseSetting("Operations:ApiKey", apiKey);
            }
        });

    private static HttpClient Operator(WebApplicationFactory<Program> app)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Add(OperatorApiKeyHandler.HeaderName, Key);
        return client;
    }

    [Fact]
    public async Task Without_the_key_every_operations_endpoint_and_the_dashboard_answer_401()
    {
        var stream = BrokerFixture.UniqueName("orders-ops");
        try
        {
            await using var app = CreateApp(stream);
            using var anonymous = app.CreateClient();
            using var wrongKey = app.CreateClient();
            wrongKey.DefaultRequestHeaders.Add(OperatorApiKeyHandler.HeaderName, "not-the-operator-key");

            foreach (var client in new[] { anonymous, wrongKey })
            {
                foreach (var (method, path) in new[]
                {
                    (HttpMethod.Get, "/streams"),
                    (HttpMethod.Get, $"/streams/consumers/{Confirmations}"),
                    (HttpMethod.Post, $"/streams/consumers/{Confirmations}/pause"),
                    (HttpMethod.Post, $"/streams/consumers/{Confirmations}/resume"),
                    (HttpMethod.Post, $"/streams/consumers/{Confirmations}/rewind?to=first"),
                    (HttpMethod.Post, "/streams/pause"),
                    (HttpMethod.Get, "/streams/ui"),
                    (HttpMethod.Get, "/streams/ui/assets/dashboard.js"),
                    (HttpMethod.Post, $"/streams/ui/api/consumers/{Confirmations}/pause"),
                })
                {
                    using var response = await client.SendAsync(new HttpRequestMessage(method, path), Ct);
                    Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path}: {response.StatusCode}");
                    Assert.StartsWith("Basic realm=", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
                }
            }

            // Nothing was paused.
            var monitor = app.Services.GetRequiredService<IStreamConsumerMonitor>();
            Assert.DoesNotContain(monitor.GetConsumers(), c => c.State == StreamConsumerState.Paused);
        }
        finally
        {
            await fixture.DeleteStreamsAsync(stream);
        }
    }

    [Fact]
    public async Task With_the_key_pause_resume_and_rewind_steer_the_confirmation_sender()
    {
        var stream = BrokerFixture.UniqueName("orders-ops");
        try
        {
            await using var app = CreateApp(stream);
            using var client = Operator(app);
            var outbox = app.Services.GetRequiredService<ConfirmationOutbox>();
            await PlaceAsync(client, "c-1");
            await WaitUntilAsync(() => outbox.Sent.Count == 1, "the first confirmation");

            // The status lists both consumers of the stream: the anonymous projection and the named sender.
            var status = await client.GetFromJsonAsync<JsonElement>("/streams", Ct);
            Assert.Equal(
                [typeof(OrderConfirmationSender).FullName, typeof(OrderProjection).FullName],
                status.GetProperty("consumers").EnumerateArray().Select(c => c.GetProperty("handler").GetString()).Order(StringComparer.Ordinal));

            // Pause: orders are still projected, but no confirmation goes out.
            using (var paused = await client.PostAsync($"/streams/consumers/{Confirmations}/pause", null, Ct))
            {
                Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
                var detail = await paused.Content.ReadFromJsonAsync<JsonElement>(Ct);
                Assert.Equal("Paused", Assert.Single(detail.GetProperty("consumers").EnumerateArray()).GetProperty("state").GetString());
            }

            await PlaceAsync(client, "c-2");
            await WaitForOrderAsync(client, "c-2");
            Assert.Equal(["c-1"], outbox.Sent.Select(s => s.OrderId));

            // Resume: the confirmation of the order placed meanwhile is sent.
            using (var resumed = await client.PostAsync($"/streams/consumers/{Confirmations}/resume", null, Ct))
            {
                Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
            }

            await WaitUntilAsync(() => outbox.Sent.Count == 2, "the confirmation of the order placed while paused");
            Assert.Equal(["c-1", "c-2"], outbox.Sent.Select(s => s.OrderId));

            // Rewind to the first message: every confirmation is sent again.
            using (var rewound = await client.PostAsync($"/streams/consumers/{Confirmations}/rewind?to=first", null, Ct))
            {
                Assert.Equal(HttpStatusCode.Accepted, rewound.StatusCode);
            }

            await WaitUntilAsync(() => outbox.Sent.Count == 4, "the confirmations sent again from the first order");
            Assert.Equal(["c-1", "c-2", "c-1", "c-2"], outbox.Sent.Select(s => s.OrderId));

            // A bad target is a 400 problem; an unknown consumer a 404 problem.
            using var bad = await client.PostAsync($"/streams/consumers/{Confirmations}/rewind?to=soon", null, Ct);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
            using var unknown = await client.PostAsync("/streams/consumers/nobody/pause", null, Ct);
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }
        finally
        {
            await fixture.DeleteStreamsAsync(stream);
        }
    }

    [Fact]
    public async Task The_dashboard_opens_with_the_key_as_the_basic_password()
    {
        var stream = BrokerFixture.UniqueName("orders-ops");
        try
        {
            await using var app = CreateApp(stream);
            using var client = app.CreateClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("ops:" + Key)));

            using var page = await client.GetAsync("/streams/ui", Ct);

            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains($"data-consumer=\"{Confirmations}\"", await page.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
        finally
        {
            await fixture.DeleteStreamsAsync(stream);
        }
    }

    [Theory]
    [InlineData(null, "Operations:ApiKey is not configured")]
    [InlineData(OperationsOptions.DevelopmentKey, "the development key")]
    [InlineData("short", "shorter than 16")]
    public void Outside_development_the_start_fails_without_a_proper_key(string? apiKey, string expected)
    {
        using var app = CreateApp(BrokerFixture.UniqueName("orders-ops"), "Production", apiKey);

        var ex = Assert.ThrowsAny<Exception>(() => app.CreateClient());

        Assert.Contains(expected, Messages(ex), StringComparison.Ordinal);
    }

    private static string Messages(Exception ex)
    {
        var messages = new StringBuilder();
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            messages.AppendLine(e.Message);
        }

        return messages.ToString();
    }

    private static async Task PlaceAsync(HttpClient client, string id)
    {
        using var response = await client.PostAsJsonAsync("/orders", new { id, customer = "ada", amount = 1 }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private static async Task WaitForOrderAsync(HttpClient client, string id)
    {
        var deadline = DateTime.UtcNow + HangGuard;
        while (true)
        {
            using var response = await client.GetAsync($"/orders/{id}", Ct);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Order {id} was not projected within {HangGuard}.");
            await Task.Delay(50, Ct);
        }
    }

    private static Task WaitUntilAsync(Func<bool> condition, string what) => Eventually.TrueAsync(condition, what, HangGuard);
}
