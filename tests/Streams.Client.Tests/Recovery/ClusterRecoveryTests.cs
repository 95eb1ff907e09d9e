using System.Text.Json;
using Streams.Testing;
using static Streams.Client.Tests.Recovery.RecoveryHarness;

namespace Streams.Client.Tests.Recovery;

/// <summary>Issue 4 item 1, must-show on the 3-node cluster: leader loss and node restart; stream deletion is terminal.</summary>
[Trait("Category", "Cluster")]
public sealed class ClusterRecoveryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static StreamSystemOptions ClusterOptions(string name) =>
        Options("localhost", ClusterBroker.StreamPort(1), name, ("localhost", ClusterBroker.StreamPort(2)), ("localhost", ClusterBroker.StreamPort(3)));

    [Fact]
    public async Task Stopping_the_leader_node_during_publishing_and_consuming_loses_and_duplicates_nothing()
    {
        const int Total = 30_000;
        await ClusterBroker.UpAsync(Ct);
        var name = BrokerFixture.UniqueName("rec-b");
        await using var system = await StreamSystem.ConnectAsync(ClusterOptions(name), Ct);
        var stream = name;
        await system.CreateStreamAsync(stream, new StreamSpec { InitialClusterSize = 3 }, Ct);
        int leader = await WaitForLeaderAsync(stream, online: 3, except: 0);
        int survivor = ClusterBroker.Nodes.First(n => n != leader);
        bool stopped = false;
        try
        {
            var received = new List<ulong>(Total);
            await using var consumer = await system.CreateConsumerAsync(RecordingConsumerOptions(stream, received), Ct);
            await using var producer = await system.CreateProducerAsync(new ProducerOptions(stream)
            {
                Name = $"{name}-p",
                Recovery = FastRecovery,
                ConfirmTimeout = TimeSpan.FromMinutes(3),
            }, Ct);

            long confirmed = 0;
            var failures = new System.Collections.Concurrent.ConcurrentQueue<Confirmation>();
            Task? stopping = null;
            for (int i = 1; i <= Total; i++)
            {
                if (i == 5_000)
                {
                    stopping = BrokerScript.RunAsync($"node stop {leader}", cancellationToken: Ct);
                    stopped = true;
                }

                await producer.Send((ulong)i, Body((ulong)i), c =>
                {
                    if (c.IsConfirmed)
                    {
                        Interlocked.Increment(ref confirmed);
                    }
                    else
                    {
                        failures.Enqueue(c);
                    }
                }, Ct);
                if (stopping is { IsCompleted: false } && i % 100 == 0)
                {
                    await Task.Delay(10, Ct);
                }
            }

            await stopping!;
            await WaitUntilAsync(() => Interlocked.Read(ref confirmed) + failures.Count >= Total, TimeSpan.FromMinutes(3), $"confirmations ({Interlocked.Read(ref confirmed)}; producer {producer.Status})");
            Assert.Empty(failures);
            await WaitUntilAsync(() => { lock (received) { return received.Count >= Total; } }, TimeSpan.FromMinutes(2), $"deliveries ({received.Count}; consumer {consumer.Status})");
            lock (received)
            {
                AssertExactlyOnceInOrder(received, Total, "running consumer");
            }

            AssertExactlyOnceInOrder(await ReadBackAsync(system, stream, Total), Total, "stream read back");

            // Both ended on live nodes: the producer on the new leader, the consumer on a surviving member.
            int newLeader = await WaitForLeaderAsync(stream, online: 2, except: leader);
            await AssertConnectionOnAsync(survivor, $"{name}-producer", n => n == newLeader);
            await AssertConnectionOnAsync(survivor, $"{name}-consumer", n => n != leader);
        }
        finally
        {
            if (stopped)
            {
                await BrokerScript.RunAsync($"node start {leader}", cancellationToken: CancellationToken.None);
            }

            await system.DeleteStreamAsync(stream, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Node_restart_resumes_the_consumer_and_stream_deletion_ends_both_sides()
    {
        await ClusterBroker.UpAsync(Ct);
        var name = BrokerFixture.UniqueName("rec-c");
        await using var system = await StreamSystem.ConnectAsync(ClusterOptions(name), Ct);
        var stream = name;
        await system.CreateStreamAsync(stream, new StreamSpec { InitialClusterSize = 1 }, Ct);
        int node = await WaitForLeaderAsync(stream, online: 1, except: 0);
        bool stopped = false;
        try
        {
            var received = new List<ulong>();
            var consumerStatus = new StatusLog();
            var consumer = await system.CreateConsumerAsync(RecordingConsumerOptions(stream, received), Ct);
            consumer.StatusChanged += consumerStatus.Record;
            var producerStatus = new StatusLog();
            var producer = await system.CreateProducerAsync(new ProducerOptions(stream) { Name = $"{name}-p", Recovery = FastRecovery, ConfirmTimeout = TimeSpan.FromMinutes(3) }, Ct);
            producer.StatusChanged += producerStatus.Record;

            for (ulong i = 1; i <= 100; i++)
            {
                await producer.SendAsync(i, Body(i), Ct);
            }

            await WaitUntilAsync(() => { lock (received) { return received.Count >= 100; } }, TimeSpan.FromSeconds(30), "first 100");

            // Restart the only node hosting the stream.
            await BrokerScript.RunAsync($"node stop {node}", cancellationToken: Ct);
            stopped = true;
            await WaitUntilAsync(() => consumerStatus.Count(StreamStatus.Reconnecting) > 0 && producerStatus.Count(StreamStatus.Reconnecting) > 0, TimeSpan.FromSeconds(30), "both reconnecting");
            await BrokerScript.RunAsync($"node start {node}", cancellationToken: Ct);
            stopped = false;

            for (ulong i = 101; i <= 200; i++)
            {
                await producer.SendAsync(i, Body(i), Ct);
            }

            await WaitUntilAsync(() => { lock (received) { return received.Count >= 200; } }, TimeSpan.FromMinutes(2), $"200 after restart (consumer {consumerStatus})");
            lock (received)
            {
                AssertExactlyOnceInOrder(received, 200, "consumer across the restart");
            }

            Assert.True(consumerStatus.Count(StreamStatus.Recovered) >= 1, consumerStatus.ToString());
            Assert.True(producerStatus.Count(StreamStatus.Recovered) >= 1, producerStatus.ToString());

            // Deleting the stream is terminal for both.
            await system.DeleteStreamAsync(stream, Ct);
            var error = await Assert.ThrowsAsync<StreamDeletedException>(() => consumer.Completion.WaitAsync(TimeSpan.FromSeconds(30), Ct));
            Assert.Equal(stream, error.Stream);
            await WaitUntilAsync(() => producer.Status == StreamStatus.Failed, TimeSpan.FromSeconds(30), $"producer failed ({producerStatus})");
            Assert.Equal(StreamStatus.Failed, consumer.Status);
            Assert.False(producer.IsOpen);
            var closed = await Assert.ThrowsAsync<ProducerClosedException>(() => producer.SendAsync(201, Body(201), Ct));
            Assert.Equal(ResponseCode.StreamDoesNotExist, closed.Code);
            Assert.Equal(1, consumerStatus.Count(StreamStatus.Failed));
            await producer.DisposeAsync();
            await consumer.DisposeAsync();
        }
        finally
        {
            if (stopped)
            {
                await BrokerScript.RunAsync($"node start {node}", cancellationToken: CancellationToken.None);
            }

            if (await system.StreamExistsAsync(stream, CancellationToken.None))
            {
                await system.DeleteStreamAsync(stream, CancellationToken.None);
            }
        }
    }

    private static async Task<int> WaitForLeaderAsync(string stream, int online, int except)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            foreach (var n in ClusterBroker.Nodes.Where(n => n != except))
            {
                try
                {
                    using var mgmt = new ManagementClient(ClusterBroker.ManagementUri(n));
                    if (await mgmt.GetQueueAsync(stream, Ct) is { } q && q.TryGetProperty("leader", out var l) && q.TryGetProperty("online", out var o)
                        && o.GetArrayLength() >= online && l.GetString() is { } leaderName && leaderName != (except == 0 ? "" : ClusterBroker.NodeName(except)))
                    {
                        return ClusterBroker.NodeNumber(leaderName);
                    }

                    last = "no leader yet";
                }
                catch (HttpRequestException ex)
                {
                    last = ex.Message;
                }

                break;
            }

            await Task.Delay(500, Ct);
        }

        throw new TimeoutException($"stream {stream} has no leader: {last}");
    }

    private static async Task AssertConnectionOnAsync(int askNode, string connectionName, Func<int, bool> expectedNode)
    {
        using var mgmt = new ManagementClient(ClusterBroker.ManagementUri(askNode));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string seen = "";
        while (DateTime.UtcNow < deadline)
        {
            var matches = (await mgmt.GetConnectionsAsync(Ct))
                .Where(c => c.TryGetProperty("client_properties", out var p) && p.TryGetProperty("connection_name", out var n) && n.GetString() == connectionName)
                .Select(c => ClusterBroker.NodeNumber(c.GetProperty("node").GetString()!))
                .ToList();
            seen = string.Join(",", matches);
            if (matches.Count == 1 && expectedNode(matches[0]))
            {
                return;
            }

            await Task.Delay(500, Ct);
        }

        Assert.Fail($"connection {connectionName} is on node(s) [{seen}]");
    }
}
