using System.Diagnostics;
using Streams.Testing;

namespace Streams.Client.Tests.Foundation;

/// <summary>Issue 2: the broker script brings a real broker up, is idempotent and can drop connections.</summary>
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
