using System.Text.Json;
using Streams.Client.Connections.Sharing;
using Streams.Testing;

namespace Streams.Client.Tests.Sharing;

/// <summary>Options with a unique connection name, and connection counts from the pools and from the management API.</summary>
internal static class SharingHarness
{
    public static StreamSystemOptions Options(BrokerFixture fixture, string name, int? maxProducers = null, int? maxConsumers = null)
    {
        var options = new StreamSystemOptions
        {
            UserName = fixture.Endpoint.UserName,
            Password = fixture.Endpoint.Password,
            VirtualHost = fixture.Endpoint.VirtualHost,
            ConnectionName = name,
        };
        options.Endpoints.Add(new StreamEndpoint(fixture.Endpoint.Host, fixture.Endpoint.Port));
        if (maxProducers is { } p)
        {
            options.MaxProducersPerConnection = p;
        }

        if (maxConsumers is { } c)
        {
            options.MaxConsumersPerConnection = c;
        }

        return options;
    }

    public static ManagementClient ManagementApi(BrokerFixture fixture) =>
        new(fixture.Endpoint.ManagementUri, fixture.Endpoint.UserName, fixture.Endpoint.Password);

    /// <summary>The broker-side names of the connections whose client-provided name is exactly <paramref name="connectionName"/>.</summary>
    public static async Task<List<string>> ConnectionsNamedAsync(ManagementClient management, string connectionName) =>
        [.. (await management.GetConnectionsAsync(TestContext.Current.CancellationToken))
            .Where(c => NameOf(c) == connectionName)
            .Select(c => c.GetProperty("name").GetString()!)];

    private static string? NameOf(JsonElement connection) =>
        connection.TryGetProperty("client_properties", out var p) && p.TryGetProperty("connection_name", out var n) ? n.GetString() : null;

    /// <summary>
    /// Waits (up to 60 s: the management API lists stream connections a few seconds after they open, and drops them a
    /// few seconds after they close) until the broker lists exactly <paramref name="expected"/> connections named
    /// <paramref name="connectionName"/>, and fails with the last count otherwise.
    /// </summary>
    public static async Task AssertBrokerConnectionsAsync(ManagementClient management, string connectionName, int expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        int count;
        while ((count = (await ConnectionsNamedAsync(management, connectionName)).Count) != expected)
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"The broker lists {count} connections named {connectionName}, expected {expected}.");
            }

            await Task.Delay(250, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>
    /// Force-closes, through the management API, the connection named <paramref name="connectionName"/> that is not in
    /// <paramref name="closedBefore"/> (waiting up to 60 s for the listing to show it), and adds it there.
    /// </summary>
    public static async Task CloseNewConnectionAsync(BrokerFixture fixture, ManagementClient management, string connectionName, HashSet<string> closedBefore)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        string? target;
        while ((target = (await ConnectionsNamedAsync(management, connectionName)).FirstOrDefault(n => !closedBefore.Contains(n))) is null)
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"No new connection named {connectionName} appeared within 60 s (closed before: {string.Join(", ", closedBefore)}).");
            }

            await Task.Delay(250, TestContext.Current.CancellationToken);
        }

        using var http = new HttpClient { BaseAddress = fixture.Endpoint.ManagementUri };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{fixture.Endpoint.UserName}:{fixture.Endpoint.Password}")));
        using var response = await http.DeleteAsync($"api/connections/{Uri.EscapeDataString(target)}", TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        closedBefore.Add(target);
    }

    /// <summary>Open connections of the pool, and (once) that it never opened more than that.</summary>
    public static void AssertPool(ConnectionPool pool, int open, long opened, int leases)
    {
        Assert.Equal((open, opened, leases), (pool.OpenConnections, pool.ConnectionsOpened, pool.Leases));
    }

    public static int Ceiling(int n, int max) => (n + max - 1) / max;
}
