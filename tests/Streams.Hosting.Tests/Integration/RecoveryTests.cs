using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Hosting.Tests.Consuming;
using Streams.Testing;

namespace Streams.Hosting.Tests.Integration;

[Collection(BrokerCollection.Name)]
public sealed class RecoveryTests(BrokerFixture broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private HttpClient Management()
    {
        var http = new HttpClient { BaseAddress = broker.Endpoint.ManagementUri };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{broker.Endpoint.UserName}:{broker.Endpoint.Password}")));
        return http;
    }

    /// <summary>Closes the broker connections whose client-provided name starts with <paramref name="prefix"/>; returns how many.</summary>
    private static async Task<int> CloseConnectionsAsync(HttpClient http, string prefix)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var all = await http.GetFromJsonAsync<JsonElement>("api/connections", Ct);
            var names = all.EnumerateArray()
                .Where(c => c.TryGetProperty("client_properties", out var p) && p.TryGetProperty("connection_name", out var n) && n.GetString()!.StartsWith(prefix, StringComparison.Ordinal))
                .Select(c => c.GetProperty("name").GetString()!)
                .ToList();
            if (names.Count > 0)
            {
                foreach (var name in names)
                {
                    using var response = await http.DeleteAsync($"api/connections/{Uri.EscapeDataString(name)}", Ct);
                }

                return names.Count;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No connection named {prefix}* appeared in the management API.");
            }

            await Task.Delay(250, Ct);
        }
    }

    [Fact]
    public async Task Consumer_and_producer_recover_after_their_connections_are_closed()
    {
        var stream = BrokerFixture.UniqueName("hosting-recover");
        var connectionName = BrokerFixture.UniqueName("recover-app");
        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "recover"; }),
            o => o.ConnectionName = connectionName);
        await host.StartAsync(Ct);
        var probe = host.Services.GetRequiredService<Probe>();
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        var monitor = host.Services.GetRequiredService<IStreamConsumerMonitor>();
        await publisher.PublishAsync(stream, new Order("before", 1), Ct);
        await probe.TakeAsync(1);

        using var http = Management();
        Assert.True(await CloseConnectionsAsync(http, connectionName + "-consumer") > 0);
        await TestHost.WaitUntilAsync(() => monitor.GetConsumers()[0].LastError is not null && monitor.GetConsumers()[0].State == StreamConsumerState.Running, "consumer re-subscribed");

        Assert.True(await CloseConnectionsAsync(http, connectionName + "-producer") > 0);
        await Task.Delay(500, Ct);
        await publisher.PublishAsync(stream, new Order("after", 2), Ct);

        var received = await probe.TakeAsync(1);
        Assert.Equal("after", ((Order)received[0].Message).Id);
        await Task.Delay(300, Ct);
        Assert.False(probe.TryTake(out _), "nothing handled twice after the re-subscription");
        await host.StopAsync(Ct);
    }
}
