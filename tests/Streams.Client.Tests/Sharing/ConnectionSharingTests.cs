using System.Collections.Concurrent;
using Streams.Client.Tests.Recovery;
using Streams.Testing;
using static Streams.Client.Tests.Recovery.RecoveryHarness;
using static Streams.Client.Tests.Sharing.SharingHarness;

namespace Streams.Client.Tests.Sharing;

/// <summary>
/// Issue 16 item 1: producers share connections, consumers share connections (separately), up to the configured number
/// per connection; frames reach the right entity; connections close with their last entity; ids are reused.
/// </summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
[Trait("Category", "LocalBroker")]
public sealed class ConnectionSharingTests(BrokerFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(10, 4)]
    [InlineData(7, 1)]
    public async Task N_producers_and_N_consumers_open_ceil_N_over_max_connections_of_each_kind_which_close_with_their_last_entity(int n, int max)
    {
        var name = BrokerFixture.UniqueName("share-count");
        using var management = ManagementApi(fixture);
        await using var system = await StreamSystem.ConnectAsync(Options(fixture, name, max, max), Ct);
        string[] streams = [name + "-a", name + "-b"];
        foreach (var stream in streams)
        {
            await system.CreateStreamAsync(stream, null, Ct);
        }

        var producers = new List<Producer>();
        var consumers = new List<Consumer>();
        var received = new ConcurrentDictionary<int, ConcurrentQueue<ulong>>();
        try
        {
            for (int i = 0; i < n; i++)
            {
                producers.Add(await system.CreateProducerAsync(new ProducerOptions(streams[i % 2]), Ct));
                var mine = received[i] = new ConcurrentQueue<ulong>();
                consumers.Add(await system.CreateConsumerAsync(new ConsumerOptions(streams[i % 2])
                {
                    Offset = OffsetSpecification.First,
                    Handler = (d, _) =>
                    {
                        mine.Enqueue(IdOf(d.Body.Span));
                        return ValueTask.CompletedTask;
                    },
                }, Ct));
            }

            int expected = Ceiling(n, max);
            AssertPool(system.ProducerConnections, expected, expected, n);
            AssertPool(system.ConsumerConnections, expected, expected, n);
            await AssertBrokerConnectionsAsync(management, name + "-producer", expected);
            await AssertBrokerConnectionsAsync(management, name + "-consumer", expected);

            // Every producer gets its own confirmations; every consumer reads its own stream, exactly once.
            for (int i = 0; i < n; i++)
            {
                await producers[i].SendAsync(Body((ulong)(i + 1)), Ct);
            }

            for (int i = 0; i < n; i++)
            {
                var want = Enumerable.Range(0, n).Where(j => j % 2 == i % 2).Select(j => (ulong)(j + 1)).ToList();
                await WaitUntilAsync(() => received[i].Count >= want.Count, TimeSpan.FromSeconds(30), $"consumer {i}: {received[i].Count} of {want.Count}");
                Assert.Equal(want, received[i].ToList());
            }

            // The first connection of each kind carries the first `max` entities: it closes with the last of them.
            for (int i = 0; i < max; i++)
            {
                await producers[i].DisposeAsync();
                await consumers[i].DisposeAsync();
            }

            AssertPool(system.ProducerConnections, expected - 1, expected, n - max);
            AssertPool(system.ConsumerConnections, expected - 1, expected, n - max);
            await AssertBrokerConnectionsAsync(management, name + "-producer", expected - 1);
            await AssertBrokerConnectionsAsync(management, name + "-consumer", expected - 1);

            foreach (var entity in producers.Skip(max))
            {
                await entity.DisposeAsync();
            }

            foreach (var entity in consumers.Skip(max))
            {
                await entity.DisposeAsync();
            }

            AssertPool(system.ProducerConnections, 0, expected, 0);
            AssertPool(system.ConsumerConnections, 0, expected, 0);
            await AssertBrokerConnectionsAsync(management, name + "-producer", 0);
            await AssertBrokerConnectionsAsync(management, name + "-consumer", 0);
        }
        finally
        {
            foreach (var entity in producers)
            {
                await entity.DisposeAsync();
            }

            foreach (var entity in consumers)
            {
                await entity.DisposeAsync();
            }

            foreach (var stream in streams)
            {
                await system.DeleteStreamAsync(stream, CancellationToken.None);
            }
        }
    }

    [Fact]
    public async Task By_default_producers_and_consumers_each_share_one_connection()
    {
        var name = BrokerFixture.UniqueName("share-default");
        await using var system = await StreamSystem.ConnectAsync(Options(fixture, name), Ct);
        Assert.Equal(StreamSystemOptions.MaxEntitiesPerConnection, system.Options.MaxProducersPerConnection);
        Assert.Equal(StreamSystemOptions.MaxEntitiesPerConnection, system.Options.MaxConsumersPerConnection);
        await system.CreateStreamAsync(name, null, Ct);
        try
        {
            await using var p1 = await system.CreateProducerAsync(new ProducerOptions(name), Ct);
            await using var p2 = await system.CreateProducerAsync(new ProducerOptions(name) { Name = name + "-named" }, Ct);
            await using var c1 = await system.CreateConsumerAsync(new ConsumerOptions(name), Ct);
            await using var c2 = await system.CreateConsumerAsync(new ConsumerOptions(name) { Name = name + "-reader" }, Ct);
            AssertPool(system.ProducerConnections, 1, 1, 2);
            AssertPool(system.ConsumerConnections, 1, 1, 2);
            Assert.NotEqual(p1.PublisherId, p2.PublisherId);
            Assert.NotEqual(c1.SubscriptionId, c2.SubscriptionId);
        }
        finally
        {
            await system.DeleteStreamAsync(name, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Ids_are_freed_on_close_and_reused_so_more_than_256_entities_over_time_use_one_connection()
    {
        const int Rounds = 300;
        var name = BrokerFixture.UniqueName("share-ids");
        await using var system = await StreamSystem.ConnectAsync(Options(fixture, name), Ct);
        await system.CreateStreamAsync(name, null, Ct);
        try
        {
            // One long-lived entity of each kind keeps the connections open while the others come and go.
            await using var keeper = await system.CreateProducerAsync(new ProducerOptions(name), Ct);
            await using var reader = await system.CreateConsumerAsync(new ConsumerOptions(name), Ct);
            await keeper.SendAsync(Body(1), Ct);
            var publisherIds = new HashSet<byte>();
            var subscriptionIds = new HashSet<byte>();
            for (int i = 0; i < Rounds; i++)
            {
                await using (var producer = await system.CreateProducerAsync(new ProducerOptions(name), Ct))
                {
                    publisherIds.Add(producer.PublisherId);
                    await producer.SendAsync(Body((ulong)(i + 2)), Ct);
                }

                await using (var consumer = await system.CreateConsumerAsync(new ConsumerOptions(name) { Offset = OffsetSpecification.Offset((ulong)i) }, Ct))
                {
                    subscriptionIds.Add(consumer.SubscriptionId);
                    await foreach (var delivery in consumer.ReadAllAsync(Ct))
                    {
                        Assert.Equal((ulong)i, delivery.Offset);
                        break;
                    }
                }
            }

            // All 255 ids beside the keeper's were used, on the same connection, and are free again.
            Assert.Equal(255, publisherIds.Count);
            Assert.Equal(255, subscriptionIds.Count);
            AssertPool(system.ProducerConnections, 1, 1, 1);
            AssertPool(system.ConsumerConnections, 1, 1, 1);
            await keeper.SendAsync(Body(Rounds + 2UL), Ct);
        }
        finally
        {
            await system.DeleteStreamAsync(name, CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_deleted_stream_stops_only_its_own_entities_on_a_shared_connection()
    {
        var name = BrokerFixture.UniqueName("share-delete");
        var doomed = name + "-doomed";
        var kept = name + "-kept";
        await using var system = await StreamSystem.ConnectAsync(Options(fixture, name), Ct);
        await system.CreateStreamAsync(doomed, null, Ct);
        await system.CreateStreamAsync(kept, null, Ct);
        try
        {
            var keptReceived = new ConcurrentQueue<ulong>();
            var keptProducerStatus = new StatusLog();
            var keptConsumerStatus = new StatusLog();
            await using var doomedProducer = await system.CreateProducerAsync(new ProducerOptions(doomed) { Recovery = FastRecovery }, Ct);
            await using var keptProducer = await system.CreateProducerAsync(new ProducerOptions(kept) { Recovery = FastRecovery }, Ct);
            keptProducer.StatusChanged += keptProducerStatus.Record;
            await using var doomedConsumer = await system.CreateConsumerAsync(new ConsumerOptions(doomed) { Recovery = FastRecovery }, Ct);
            await using var keptConsumer = await system.CreateConsumerAsync(new ConsumerOptions(kept)
            {
                Offset = OffsetSpecification.First,
                Recovery = FastRecovery,
                Handler = (d, _) =>
                {
                    keptReceived.Enqueue(IdOf(d.Body.Span));
                    return ValueTask.CompletedTask;
                },
            }, Ct);
            keptConsumer.StatusChanged += keptConsumerStatus.Record;
            AssertPool(system.ProducerConnections, 1, 1, 2);
            AssertPool(system.ConsumerConnections, 1, 1, 2);
            await keptProducer.SendAsync(Body(1), Ct);

            await system.DeleteStreamAsync(doomed, Ct);
            await Assert.ThrowsAsync<StreamDeletedException>(() => doomedConsumer.Completion.WaitAsync(TimeSpan.FromSeconds(60), Ct));
            await WaitUntilAsync(() => doomedProducer.Status == StreamStatus.Failed, TimeSpan.FromSeconds(60), $"doomed producer failed ({doomedProducer.Status})");

            // The kept stream's entities never noticed, and still use the same two connections.
            await keptProducer.SendAsync(Body(2), Ct);
            await WaitUntilAsync(() => keptReceived.Count >= 2, TimeSpan.FromSeconds(30), $"kept consumer: {keptReceived.Count} of 2");
            Assert.Equal([1UL, 2UL], keptReceived.ToList());
            Assert.Equal(string.Empty, keptProducerStatus.ToString());
            Assert.Equal(string.Empty, keptConsumerStatus.ToString());
            Assert.Equal((1, 1L), (system.ProducerConnections.OpenConnections, system.ProducerConnections.ConnectionsOpened));
            Assert.Equal((1, 1L), (system.ConsumerConnections.OpenConnections, system.ConsumerConnections.ConnectionsOpened));
        }
        finally
        {
            await system.DeleteStreamAsync(kept, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Entities_created_concurrently_fill_each_connection_before_the_next_is_opened()
    {
        const int N = 50, Max = 10;
        var name = BrokerFixture.UniqueName("share-parallel");
        await using var system = await StreamSystem.ConnectAsync(Options(fixture, name, Max, Max), Ct);
        await system.CreateStreamAsync(name, null, Ct);
        var consumers = Array.Empty<Consumer>();
        var producers = Array.Empty<Producer>();
        try
        {
            consumers = await Task.WhenAll(Enumerable.Range(0, N).Select(_ => system.CreateConsumerAsync(new ConsumerOptions(name), Ct)));
            producers = await Task.WhenAll(Enumerable.Range(0, N).Select(_ => system.CreateProducerAsync(new ProducerOptions(name), Ct)));
            AssertPool(system.ConsumerConnections, N / Max, N / Max, N);
            AssertPool(system.ProducerConnections, N / Max, N / Max, N);
            await Task.WhenAll(producers.Select(p => p.SendAsync(Body(1), Ct)));
        }
        finally
        {
            await Task.WhenAll(consumers.Select(c => c.DisposeAsync().AsTask()).Concat(producers.Select(p => p.DisposeAsync().AsTask())));
            await system.DeleteStreamAsync(name, CancellationToken.None);
        }

        AssertPool(system.ConsumerConnections, 0, N / Max, 0);
        AssertPool(system.ProducerConnections, 0, N / Max, 0);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(257)]
    public void Entities_per_connection_are_validated(int value)
    {
        var producers = new StreamSystemOptions { MaxProducersPerConnection = value };
        Assert.Contains("MaxProducersPerConnection", Assert.Throws<ArgumentException>(producers.Validate).Message);
        var consumers = new StreamSystemOptions { MaxConsumersPerConnection = value };
        Assert.Contains("MaxConsumersPerConnection", Assert.Throws<ArgumentException>(consumers.Validate).Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(256)]
    public void Entities_per_connection_accept_1_to_256(int value) =>
        new StreamSystemOptions { MaxProducersPerConnection = value, MaxConsumersPerConnection = value }.Validate();
}
