using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Streams.Testing;

/// <summary>A small client of the RabbitMQ management HTTP API for test set-up and checks.</summary>
public sealed class ManagementClient : IDisposable
{
    private readonly HttpClient _http;

    public ManagementClient(Uri baseUri, string user = "guest", string password = "guest")
    {
        _http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
    }

    /// <summary>Declares a stream queue (the stream protocol cannot choose the replication over the CLI).</summary>
    public async Task CreateStreamAsync(string name, int initialClusterSize, CancellationToken ct = default)
    {
        var body = new
        {
            durable = true,
            arguments = new Dictionary<string, object> { ["x-queue-type"] = "stream", ["x-initial-cluster-size"] = initialClusterSize },
        };
        using var response = await _http.PutAsJsonAsync($"api/queues/%2F/{Uri.EscapeDataString(name)}", body, ct).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    public async Task DeleteQueueAsync(string name, CancellationToken ct = default)
    {
        using var response = await _http.DeleteAsync($"api/queues/%2F/{Uri.EscapeDataString(name)}", ct).ConfigureAwait(false);
        if (response.StatusCode != System.Net.HttpStatusCode.NotFound)
        {
            response.EnsureSuccessStatusCode();
        }
    }

    /// <summary>GET /api/queues/%2F/name as JSON, or null when it does not exist.</summary>
    public async Task<JsonElement?> GetQueueAsync(string name, CancellationToken ct = default)
    {
        using var response = await _http.GetAsync($"api/queues/%2F/{Uri.EscapeDataString(name)}", ct).ConfigureAwait(false);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>(ct).ConfigureAwait(false);
    }

    /// <summary>The connections the node knows (stream connections appear about 2 s after they open).</summary>
    public async Task<IReadOnlyList<JsonElement>> GetConnectionsAsync(CancellationToken ct = default)
    {
        var all = await _http.GetFromJsonAsync<JsonElement>("api/connections", ct).ConfigureAwait(false);
        return [.. all.EnumerateArray()];
    }

    /// <summary>The broker-side names of the connections whose client-provided name starts with <paramref name="prefix"/>.</summary>
    public async Task<List<string>> ConnectionNamesAsync(string prefix, CancellationToken ct = default) =>
        [.. (await GetConnectionsAsync(ct).ConfigureAwait(false))
            .Where(c => c.TryGetProperty("client_properties", out var p) && p.TryGetProperty("connection_name", out var n) && n.GetString()!.StartsWith(prefix, StringComparison.Ordinal))
            .Select(c => c.GetProperty("name").GetString()!)];

    /// <summary>
    /// Force-closes the connections whose client-provided name starts with <paramref name="prefix"/>, waiting up to 30 s
    /// for one to appear (the API lists stream connections about 2 s after they open); returns their names.
    /// </summary>
    public async Task<List<string>> CloseConnectionsAsync(string prefix, CancellationToken ct = default)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var names = await ConnectionNamesAsync(prefix, ct).ConfigureAwait(false);
            if (names.Count > 0)
            {
                foreach (var name in names)
                {
                    using var response = await _http.DeleteAsync($"api/connections/{Uri.EscapeDataString(name)}", ct).ConfigureAwait(false);
                }

                return names;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No connection named {prefix}* appeared in the management API.");
            }

            await Task.Delay(250, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Creates (or updates) a user with <paramref name="password"/> and no tags (PUT /api/users/{name}); also changes a password.</summary>
    public async Task PutUserAsync(string name, string password, CancellationToken ct = default)
    {
        using var response = await _http.PutAsJsonAsync($"api/users/{Uri.EscapeDataString(name)}", new { password, tags = string.Empty }, ct).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Grants <paramref name="name"/> configure, write and read on everything in vhost <c>/</c>.</summary>
    public async Task GrantAllOnDefaultVirtualHostAsync(string name, CancellationToken ct = default)
    {
        using var response = await _http.PutAsJsonAsync($"api/permissions/%2F/{Uri.EscapeDataString(name)}",
            new { configure = ".*", write = ".*", read = ".*" }, ct).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Deletes a user (no error when it does not exist).</summary>
    public async Task DeleteUserAsync(string name, CancellationToken ct = default)
    {
        using var response = await _http.DeleteAsync($"api/users/{Uri.EscapeDataString(name)}", ct).ConfigureAwait(false);
        if (response.StatusCode != System.Net.HttpStatusCode.NotFound)
        {
            response.EnsureSuccessStatusCode();
        }
    }

    /// <summary>
    /// Adds a partition to a super stream the way the broker models one (the stream protocol has no command for it):
    /// declares the stream queue <paramref name="partition"/> and binds it to the super stream's exchange with
    /// <paramref name="bindingKey"/> and <c>x-stream-partition-order</c> = <paramref name="order"/>.
    /// </summary>
    public async Task AddSuperStreamPartitionAsync(string superStream, string partition, string bindingKey, int order, CancellationToken ct = default)
    {
        await CreateStreamAsync(partition, initialClusterSize: 1, ct).ConfigureAwait(false);
        using var response = await _http.PostAsJsonAsync(
            $"api/bindings/%2F/e/{Uri.EscapeDataString(superStream)}/q/{Uri.EscapeDataString(partition)}",
            new { routing_key = bindingKey, arguments = new Dictionary<string, object> { ["x-stream-partition-order"] = order } }, ct).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Removes every binding of <paramref name="partition"/> to the super stream's exchange (the stream stays).</summary>
    public async Task UnbindSuperStreamPartitionAsync(string superStream, string partition, CancellationToken ct = default)
    {
        var path = $"api/bindings/%2F/e/{Uri.EscapeDataString(superStream)}/q/{Uri.EscapeDataString(partition)}";
        var bindings = await _http.GetFromJsonAsync<JsonElement>(path, ct).ConfigureAwait(false);
        var keys = bindings.EnumerateArray().Select(b => b.GetProperty("properties_key").GetString()!).ToList();
        if (keys.Count == 0)
        {
            throw new InvalidOperationException($"'{partition}' is not bound to exchange '{superStream}'.");
        }

        foreach (var key in keys)
        {
            using var response = await _http.DeleteAsync($"{path}/{Uri.EscapeDataString(key)}", ct).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
        }
    }

    public void Dispose() => _http.Dispose();
}
