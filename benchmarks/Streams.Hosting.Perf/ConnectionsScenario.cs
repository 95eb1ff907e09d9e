using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Streams.Client;

namespace Streams.Hosting.Perf;

/// <summary>
/// <c>connections</c>: 500 consumers and 100 producers in one <see cref="StreamSystem"/> (over 5 streams), created one
/// after the other, with one entity per connection (<c>Max*PerConnection = 1</c>, the behaviour before connection
/// sharing) and with the default sharing, alternating per round. Reports the creation time of each kind and the
/// connections the broker's management API lists for the system (by its unique connection name).
/// </summary>
internal static class ConnectionsScenario
{
    private const int Consumers = 500;
    private const int Producers = 100;
    private const int Streams = 5;
    private static readonly TimeSpan ListingTimeout = TimeSpan.FromSeconds(90);

    public static async Task<bool> RunAsync(PerfSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        Report.Section(output, $"connections: {Consumers} consumers + {Producers} producers over {Streams} streams in one StreamSystem, 1 per connection vs shared (default)");
        await using var admin = await Broker.ConnectAsync(settings, cancellationToken);
        var streams = Enumerable.Range(0, Streams).Select(i => $"hosting-perf-connections-{i}-{Guid.NewGuid():N}").ToArray();
        foreach (var stream in streams)
        {
            await admin.CreateStreamAsync(stream, null, cancellationToken);
        }

        using var management = ManagementFor(settings.Uri);
        try
        {
            for (var round = 1; round <= settings.Rounds; round++)
            {
                foreach (var max in new[] { 1, StreamSystemOptions.MaxEntitiesPerConnection })
                {
                    await RunOnceAsync(settings, management, streams, max, round, output, cancellationToken);
                }
            }
        }
        finally
        {
            foreach (var stream in streams)
            {
                await admin.DeleteStreamAsync(stream, CancellationToken.None);
            }
        }

        return true;
    }

    private static async Task RunOnceAsync(PerfSettings settings, HttpClient management, string[] streams, int max, int round, TextWriter output, CancellationToken cancellationToken)
    {
        var options = StreamSystemOptions.FromUri(settings.Uri);
        options.ConnectionName = $"streams-hosting-perf-conn-{Guid.NewGuid():N}";
        options.MaxConsumersPerConnection = max;
        options.MaxProducersPerConnection = max;
        await using var system = await StreamSystem.ConnectAsync(options, cancellationToken);
        var consumers = new List<Consumer>(Consumers);
        var producers = new List<Producer>(Producers);
        try
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < Consumers; i++)
            {
                consumers.Add(await system.CreateConsumerAsync(new ConsumerOptions(streams[i % Streams]) { Offset = OffsetSpecification.Next }, cancellationToken));
            }

            var consumersTook = clock.Elapsed;
            clock.Restart();
            for (var i = 0; i < Producers; i++)
            {
                producers.Add(await system.CreateProducerAsync(new ProducerOptions(streams[i % Streams]), cancellationToken));
            }

            var producersTook = clock.Elapsed;
            int wantConsumers = (Consumers + max - 1) / max, wantProducers = (Producers + max - 1) / max;
            var consumerConnections = await ListedAsync(management, options.ConnectionName + "-consumer", wantConsumers, cancellationToken);
            var producerConnections = await ListedAsync(management, options.ConnectionName + "-producer", wantProducers, cancellationToken);

            clock.Restart();
            await DisposeAllAsync(consumers, producers);
            var closeTook = clock.Elapsed;
            var mode = max == 1 ? "1/connection" : $"{max}/connection";
            output.WriteLine(Report.Invariant(
                $"round {round}  {mode,-16} consumers {consumersTook.TotalSeconds,6:F2} s ({consumersTook.TotalMilliseconds / Consumers,6:F2} ms each) on {consumerConnections,3} connections;  producers {producersTook.TotalSeconds,5:F2} s ({producersTook.TotalMilliseconds / Producers,6:F2} ms each) on {producerConnections,3} connections;  closing all {closeTook.TotalSeconds:F2} s"));
            output.WriteLine(Report.Invariant(
                $"RESULT connections max={max} consumers={Consumers} {consumersTook.TotalMilliseconds:F0}ms conns={consumerConnections} producers={Producers} {producersTook.TotalMilliseconds:F0}ms conns={producerConnections} close={closeTook.TotalMilliseconds:F0}ms"));
        }
        finally
        {
            await DisposeAllAsync(consumers, producers);
        }
    }

    private static async Task DisposeAllAsync(List<Consumer> consumers, List<Producer> producers)
    {
        foreach (var consumer in consumers)
        {
            await consumer.DisposeAsync();
        }

        foreach (var producer in producers)
        {
            await producer.DisposeAsync();
        }
    }

    /// <summary>
    /// The connections named <paramref name="connectionName"/> the management API lists, once it lists
    /// <paramref name="expected"/> of them (it shows stream connections a few seconds after they open), or whatever it
    /// lists after <see cref="ListingTimeout"/>.
    /// </summary>
    private static async Task<int> ListedAsync(HttpClient management, string connectionName, int expected, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var all = await management.GetFromJsonAsync<JsonElement>("api/connections?columns=client_properties", cancellationToken);
            var count = all.EnumerateArray().Count(c => c.TryGetProperty("client_properties", out var p)
                && p.TryGetProperty("connection_name", out var n) && n.GetString() == connectionName);
            if (count == expected || deadline.Elapsed > ListingTimeout)
            {
                return count;
            }

            await Task.Delay(500, cancellationToken);
        }
    }

    /// <summary>The management API of the broker in <paramref name="uri"/> (port 15672, the same credentials).</summary>
    private static HttpClient ManagementFor(string uri)
    {
        var options = StreamSystemOptions.FromUri(uri);
        var host = options.Endpoints.Count > 0 ? options.Endpoints[0].Host : "localhost";
        var http = new HttpClient { BaseAddress = new Uri($"http://{host}:15672/") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.UserName}:{options.Password}")));
        return http;
    }
}
