using System.Text;
using Streams.Testing;

namespace Streams.Client.Tests.Connections;

/// <summary>
/// Issue 4 item 7: load-balancer mode. Every connection dials what the AddressResolver returns and keeps it only when
/// the node reached advertises the wanted host/port (protocol §9 gotcha 8).
/// </summary>
[Trait("Category", "Broker")]
[Collection(ClusterCollection.Name)]
public sealed class LoadBalancerTests(BrokerFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Resolver_is_used_for_every_dial_and_gives_up_with_a_clear_error_when_the_node_is_never_reached()
    {
        var real = new StreamEndpoint(fixture.Endpoint.Host, fixture.Endpoint.Port);
        var asked = new List<StreamEndpoint>();
        var options = new StreamSystemOptions
        {
            UserName = fixture.Endpoint.UserName,
            Password = fixture.Endpoint.Password,
            VirtualHost = fixture.Endpoint.VirtualHost,
            ConnectionName = "lb-single",
            AddressResolverMaxAttempts = 3,
            AddressResolver = endpoint =>
            {
                lock (asked)
                {
                    asked.Add(endpoint);
                }

                return real;
            },
        };
        options.Endpoints.Add(new StreamEndpoint("load-balancer.invalid", 1));

        await using var system = await StreamSystem.ConnectAsync(options, Ct);
        Assert.Equal(new StreamEndpoint("load-balancer.invalid", 1), Assert.Single(asked));

        // The single node advertises itself, so a connection "to" that node is accepted on the first dial...
        var advertised = new StreamEndpoint(system.Connection.AdvertisedHost, system.Connection.AdvertisedPort);
        await using (var connection = await system.OpenConnectionAsync(advertised.Host, advertised.Port, "lb", Ct))
        {
            Assert.Equal(advertised.Port, connection.AdvertisedPort);
        }

        // ... while a node that never answers through the resolver fails after the configured attempts.
        var ex = await Assert.ThrowsAsync<StreamClientException>(() => system.OpenConnectionAsync("other-node.invalid", 5999, "lb", Ct));
        Assert.Contains("other-node.invalid:5999", ex.Message, StringComparison.Ordinal);
        Assert.Contains("3 times", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"{advertised.Host}:{advertised.Port}", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, asked.Count(e => e.Host == "other-node.invalid"));
    }

    [Fact]
    [Trait("Category", "Cluster")]
    public async Task Producer_behind_a_round_robin_load_balancer_lands_on_the_leader_and_consumer_on_a_replica()
    {
        await ClusterBroker.UpAsync(Ct);
        var stream = BrokerFixture.UniqueName("lb");
        var node3 = ClusterOptions("lb-setup", new StreamEndpoint("localhost", ClusterBroker.StreamPort(3)));
        await using var direct = await StreamSystem.ConnectAsync(node3, Ct);
        await direct.CreateStreamAsync(stream, new StreamSpec { InitialClusterSize = 3, LeaderLocator = LeaderLocator.ClientLocal }, Ct);
        try
        {
            var metadata = await WaitForReplicasAsync(direct, stream, 2);
            var leaderPort = metadata.Leader!.Port;
            Assert.Equal(ClusterBroker.StreamPort(3), leaderPort);

            // The load balancer sends connection k to node (k mod 3) + 1: management → node 1, the producer's first
            // dial → node 2 (wrong, must be closed), the second → node 3 (the leader).
            await using var proxy = new RoundRobinProxy(ClusterBroker.StreamPort(1), ClusterBroker.StreamPort(2), ClusterBroker.StreamPort(3));
            var loadBalancer = new StreamEndpoint("localhost", proxy.Port);
            var options = ClusterOptions(BrokerFixture.UniqueName("lb-client"), loadBalancer);
            options.AddressResolver = _ => loadBalancer;
            await using var system = await StreamSystem.ConnectAsync(options, Ct);

            await using (var producer = await system.CreateProducerAsync(new ProducerOptions(stream), Ct))
            {
                var producerConnection = proxy.Connections.Last();
                Assert.Equal(leaderPort, producerConnection.BackendPort);
                Assert.False(producerConnection.Closed);
                var wrong = proxy.Connections.Skip(1).SkipLast(1).ToArray();
                Assert.NotEmpty(wrong);
                Assert.All(wrong, c => Assert.NotEqual(leaderPort, c.BackendPort));
                await WaitUntilAsync(() => wrong.All(c => c.Closed));

                for (var i = 0; i < 5; i++)
                {
                    await producer.SendAsync(new Message(Encoding.UTF8.GetBytes($"lb-{i}")), Ct);
                }
            }

            var before = proxy.Connections.Count;
            await using var consumer = await system.CreateConsumerAsync(new ConsumerOptions(stream) { Offset = OffsetSpecification.First }, Ct);
            var consumerConnection = proxy.Connections.Last();
            Assert.True(proxy.Connections.Count > before);
            Assert.NotEqual(leaderPort, consumerConnection.BackendPort);
            Assert.False(consumerConnection.Closed);

            var bodies = new List<string>();
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            cts.CancelAfter(TimeSpan.FromSeconds(30));
            await foreach (var delivery in consumer.ReadAllAsync(cts.Token))
            {
                bodies.Add(Encoding.UTF8.GetString(delivery.DecodeMessage().Body.Span));
                if (bodies.Count == 5)
                {
                    break;
                }
            }

            Assert.Equal(Enumerable.Range(0, 5).Select(i => $"lb-{i}"), bodies);

            // The locating helper accepts any replica through the resolver, and the leader for producers.
            await using (var replica = await system.OpenConnectionForStreamAsync(stream, preferReplica: true, "lb-replica", Ct))
            {
                Assert.NotEqual(leaderPort, replica.AdvertisedPort);
                Assert.Contains(metadata.Replicas, r => r.Port == replica.AdvertisedPort);
            }

            await using (var leaderConnection = await system.OpenConnectionForStreamAsync(stream, preferReplica: false, "lb-leader", Ct))
            {
                Assert.Equal(leaderPort, leaderConnection.AdvertisedPort);
                Assert.Equal(leaderPort, proxy.Connections.Last().BackendPort);
            }
        }
        finally
        {
            await direct.DeleteStreamAsync(stream, CancellationToken.None);
        }
    }

    private StreamSystemOptions ClusterOptions(string name, StreamEndpoint endpoint)
    {
        var options = new StreamSystemOptions
        {
            UserName = fixture.Endpoint.UserName,
            Password = fixture.Endpoint.Password,
            ConnectionName = name,
        };
        options.Endpoints.Add(endpoint);
        return options;
    }

    private static async Task<StreamMetadata> WaitForReplicasAsync(StreamSystem system, string stream, int replicas)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var metadata = (await system.QueryMetadataAsync([stream], Ct))[0];
            if (metadata.Leader is not null && metadata.Replicas.Count >= replicas)
            {
                return metadata;
            }

            Assert.True(DateTime.UtcNow < deadline, $"stream {stream} never had {replicas} replicas: {metadata}");
            await Task.Delay(250, Ct);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in 10 s");
            await Task.Delay(50, Ct);
        }
    }
}
