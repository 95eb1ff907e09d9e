using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Streams.Hosting.Testing;
using WebApi.Orders;

namespace Streams.Samples.Tests;

/// <summary>
/// samples/WebApi in process with the test harness added through <c>WebApplicationFactory.ConfigureServices</c>:
/// the application's own registration (stream, projection consumer, health check) over the in-memory broker. The
/// connection string points at a port nothing listens on, with StartBehavior FailFast: any connection attempt would fail the start.
/// </summary>
public sealed class WebApiHarnessTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Posted_order_is_published_consumed_and_projected_without_a_broker()
    {
        await using var app = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseSetting("RabbitStreams:ConnectionString", "rabbitmq-stream://guest:guest@127.0.0.1:1/%2f");
            web.UseSetting("RabbitStreams:StartBehavior", "FailFast");
            web.UseSetting("Orders:Stream", "orders");
            web.ConfigureServices(services => services.AddRabbitStreamsTestHarness());
        });
        using var client = app.CreateClient();
        var harness = app.Services.GetRequiredService<IStreamsTestHarness>();

        var response = await client.PostAsJsonAsync("/orders", new { id = "o-1", customer = "ada", amount = 12.5m }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var published = Assert.Single(harness.Published<OrderPlaced>());
        Assert.Equal(("orders", "o-1"), (published.Stream, published.Message.Id));
        var consumed = await harness.WaitForConsumedAsync<OrderPlaced>(o => o.Id == "o-1", cancellationToken: Ct);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (harness.Consumed<OrderPlaced>().Count < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, Ct);
        }

        // Both consumers of the stream handled it: the projection and the confirmation sender.
        Assert.Equal([typeof(OrderConfirmationSender), typeof(OrderProjection)], harness.Consumed<OrderPlaced>().Select(c => c.HandlerType).OrderBy(t => t.Name));

        var view = await client.GetFromJsonAsync<OrderView>("/orders/o-1", Ct);
        Assert.Equal(("ada", 12.5m, consumed.Context.Offset), (view!.Customer, view.Amount, view.Offset));
        Assert.Equal("Healthy", await client.GetStringAsync("/health", Ct));
    }
}
