using System.Diagnostics;
using Streams.Testing;

namespace Streams.Client.Tests.Foundation;

/// <summary>Issue 2: the broker script brings a real broker up, is idempotent and can drop connections.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
[Trait("Category", "LocalBroker")]
public sealed class BrokerScriptTests(BrokerFixture fixture)
{
    [Fact]
    public async Task Second_up_is_a_fast_no_op_and_prints_the_endpoint()
    {
        var ct = TestContext.Current.CancellationToken;
        await BrokerScript.RunAsync("up", cancellationToken: ct);
        var watch = Stopwatch.StartNew();
        var output = await BrokerScript.RunAsync("up", cancellationToken: ct);
        watch.Stop();

        Assert.Contains("rabbitmq-stream://", output, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"second `up` took {watch.Elapsed}");
    }

    [Fact]
    public async Task Status_reports_the_running_node()
    {
        var output = await BrokerScript.RunAsync("status", cancellationToken: TestContext.Current.CancellationToken);
        Assert.Contains("running", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cpus_pins_every_thread_of_the_node_and_all_undoes_it()
    {
        var ct = TestContext.Current.CancellationToken;
        if (Environment.GetEnvironmentVariable("RABBITMQ_STREAM_URI") is { Length: > 0 })
        {
            Assert.Skip("cpus pins only the broker this script runs (RABBITMQ_STREAM_URI points elsewhere)");
        }

        var all = $"0-{Environment.ProcessorCount - 1}";
        try
        {
            // e.g. "pid 10818's current affinity list: 0"
            var pinned = await BrokerScript.RunAsync("cpus 0", cancellationToken: ct);
            var pid = int.Parse(pinned.Split(' ', '\'')[1], System.Globalization.CultureInfo.InvariantCulture);
            Assert.All(ThreadAffinities(pid), list => Assert.Equal("0", list));

            await BrokerScript.RunAsync("cpus all", cancellationToken: ct);
            Assert.All(ThreadAffinities(pid), list => Assert.Equal(Environment.ProcessorCount == 1 ? "0" : all, list));
        }
        finally
        {
            await BrokerScript.RunAsync("cpus all", cancellationToken: CancellationToken.None);
        }

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => BrokerScript.RunAsync("cpus", cancellationToken: ct));
        Assert.Contains("usage: cpus LIST|all", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>The CPU list each thread of a process may run on (Cpus_allowed_list of every task).</summary>
    private static List<string> ThreadAffinities(int pid)
    {
        var lists = Directory.GetDirectories($"/proc/{pid}/task")
            .Select(task => File.ReadLines(Path.Combine(task, "status")).Single(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal)))
            .Select(line => line["Cpus_allowed_list:".Length..].Trim())
            .ToList();
        Assert.True(lists.Count > 1, $"expected the Erlang VM's threads under /proc/{pid}/task, found {lists.Count}");
        return lists;
    }

    [Fact]
    public async Task Close_connections_drops_an_open_stream_connection()
    {
        var ct = TestContext.Current.CancellationToken;
        var endpoint = fixture.Endpoint;
        using var connection = new RawStreamHandshake();
        await connection.OpenAsync(endpoint.Host, endpoint.Port, endpoint.UserName, endpoint.Password, endpoint.VirtualHost, "close-connections-test", ct);

        // The connection is open: nothing arrives and the socket stays up.
        Assert.False(await connection.WaitForRemoteCloseAsync(TimeSpan.FromMilliseconds(500)));

        await BrokerScript.RunAsync("close-connections", cancellationToken: ct);

        Assert.True(await connection.WaitForRemoteCloseAsync(TimeSpan.FromSeconds(15)), "the broker did not drop the stream connection");
    }
}
