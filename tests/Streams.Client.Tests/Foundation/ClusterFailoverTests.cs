using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Streams.Testing;

namespace Streams.Client.Tests.Foundation;

/// <summary>
/// Issue 2: a stream replicated on the 3-node cluster survives the loss of its leader node. Writing and reading go
/// through AMQP 0.9.1 (RabbitMQ.Client) so this proves the broker set-up, independent of our client.
/// </summary>
[Trait("Category", "Broker")]
[Collection(ClusterCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class ClusterFailoverTests
{
    [Fact]
    public async Task Replicated_stream_stays_writable_and_readable_after_its_leader_node_stops()
    {
        var ct = TestContext.Current.CancellationToken;
        await ClusterBroker.UpAsync(ct);
        var stream = BrokerFixture.UniqueName("failover");
        using var mgmt1 = new ManagementClient(ClusterBroker.ManagementUri(1));
        await mgmt1.CreateStreamAsync(stream, initialClusterSize: 3, ct);

        var queue = await WaitForQueueAsync(mgmt1, stream, q => q.GetProperty("online").GetArrayLength() == 3, ct);
        var leader = ClusterBroker.NodeNumber(queue.GetProperty("leader").GetString()!);
        var survivor = ClusterBroker.Nodes.First(n => n != leader);

        await PublishAsync(survivor, stream, "before", ct);
        await BrokerScript.RunAsync($"node stop {leader}", cancellationToken: ct);
        try
        {
            using var mgmt = new ManagementClient(ClusterBroker.ManagementUri(survivor));
            var moved = await WaitForQueueAsync(mgmt, stream,
                q => q.TryGetProperty("leader", out var l) && l.GetString() != ClusterBroker.NodeName(leader), ct);
            Assert.NotEqual(ClusterBroker.NodeName(leader), moved.GetProperty("leader").GetString());

            await PublishAsync(survivor, stream, "after", ct);
            var bodies = await ReadAsync(survivor, stream, expected: 2, ct);
            Assert.Equal(["before", "after"], bodies);
        }
        finally
        {
            await BrokerScript.RunAsync($"node start {leader}", cancellationToken: CancellationToken.None);
            using var mgmt = new ManagementClient(ClusterBroker.ManagementUri(survivor));
            await mgmt.DeleteQueueAsync(stream, CancellationToken.None);
        }
    }

    private static async Task<System.Text.Json.JsonElement> WaitForQueueAsync(
        ManagementClient mgmt, string name, Func<System.Text.Json.JsonElement, bool> condition, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        System.Text.Json.JsonElement? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await mgmt.GetQueueAsync(name, ct);
                if (last is { } q && q.TryGetProperty("leader", out _) && q.TryGetProperty("online", out _) && condition(q))
                {
                    return q;
                }
            }
            catch (HttpRequestException)
            {
                // the node may be busy electing a leader
            }

            await Task.Delay(500, ct);
        }

        throw new TimeoutException($"queue {name} never reached the expected state; last: {last}");
    }

    private static async Task PublishAsync(int node, string stream, string body, CancellationToken ct)
    {
        var factory = new ConnectionFactory { HostName = "localhost", Port = ClusterBroker.AmqpPort(node) };
        await using var connection = await factory.CreateConnectionAsync(ct);
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);
        await channel.BasicPublishAsync(string.Empty, stream, mandatory: true, new BasicProperties(), Encoding.UTF8.GetBytes(body), ct);
    }

    private static async Task<List<string>> ReadAsync(int node, string stream, int expected, CancellationToken ct)
    {
        var factory = new ConnectionFactory { HostName = "localhost", Port = ClusterBroker.AmqpPort(node) };
        await using var connection = await factory.CreateConnectionAsync(ct);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: ct);
        await channel.BasicQosAsync(0, 10, false, ct);
        var bodies = new List<string>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            lock (bodies)
            {
                bodies.Add(Encoding.UTF8.GetString(delivery.Body.Span));
                if (bodies.Count == expected)
                {
                    done.TrySetResult();
                }
            }

            await channel.BasicAckAsync(delivery.DeliveryTag, false);
        };
        await channel.BasicConsumeAsync(stream, autoAck: false, consumerTag: string.Empty, noLocal: false, exclusive: false,
            arguments: new Dictionary<string, object?> { ["x-stream-offset"] = "first" }, consumer, ct);
        await done.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
        return bodies;
    }
}
