using System.Collections.Concurrent;
using System.Text;
using Streams.Testing;

namespace Streams.Client.Tests.SuperStreams;

/// <summary>
/// Issue 17 item 5: the client's super-stream types follow partitions added to and removed from a super stream at run
/// time (SuperStreamPartitionWatcher, SuperStreamRouter, and the producer and consumer built on them).
/// </summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class PartitionRefreshTests(BrokerFixture fixture)
{
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(200);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string KeyOf(Message message) => (string)message.ApplicationProperties!["key"]!;

    private static Message Keyed(string key) => new(Encoding.UTF8.GetBytes(key))
    {
        ApplicationProperties = new Dictionary<string, object?> { ["key"] = key },
    };

    private ManagementClient Management() => new(fixture.Endpoint.ManagementUri, fixture.Endpoint.UserName, fixture.Endpoint.Password);

    private Task<StreamSystem> ConnectAsync(string name) => StreamSystem.ConnectAsync(Sharing.SharingHarness.Options(fixture, name), Ct);

    /// <summary>Completes with the first change raised after the call that satisfies <paramref name="condition"/>.</summary>
    private static Task<SuperStreamPartitionsChangedEventArgs> NextChange(
        Action<EventHandler<SuperStreamPartitionsChangedEventArgs>> subscribe, Func<SuperStreamPartitionsChangedEventArgs, bool> condition)
    {
        var changed = new TaskCompletionSource<SuperStreamPartitionsChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        subscribe((_, e) =>
        {
            if (condition(e))
            {
                changed.TrySetResult(e);
            }
        });
        return changed.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
    }

    [Fact]
    public async Task Key_router_routes_to_a_binding_added_at_run_time_and_stops_routing_to_an_unbound_one()
    {
        await using var system = await ConnectAsync("refresh-router");
        var superStream = BrokerFixture.UniqueName("refresh-router");
        await system.CreateSuperStreamAsync(superStream, [$"{superStream}-eu", $"{superStream}-us"], ["eu", "us"], cancellationToken: Ct);
        try
        {
            await using var router = await SuperStreamRouter.CreateAsync(system, new SuperStreamRouterOptions(superStream)
            {
                RoutingStrategy = SuperStreamRoutingStrategy.Key,
                PartitionRefreshInterval = Refresh,
            }, cancellationToken: Ct);
            var ex = await Assert.ThrowsAsync<SuperStreamRoutingException>(async () => await router.RouteAsync("apac", Ct));
            Assert.Equal("apac", ex.RoutingKey);
            Assert.Equal([$"{superStream}-us"], await router.RouteAsync("us", Ct)); // cached from here on

            var added = NextChange(h => router.PartitionsChanged += h, e => e.Added.Count > 0);
            using (var management = Management())
            {
                await management.AddSuperStreamPartitionAsync(superStream, $"{superStream}-apac", "apac", order: 2, Ct);
            }

            var change = await added;
            Assert.Equal([$"{superStream}-apac"], change.Added);
            Assert.Empty(change.Removed);
            Assert.Equal([$"{superStream}-eu", $"{superStream}-us", $"{superStream}-apac"], router.Partitions);
            Assert.Equal([$"{superStream}-apac"], await router.RouteAsync("apac", Ct));

            var removed = NextChange(h => router.PartitionsChanged += h, e => e.Removed.Count > 0);
            using (var management = Management())
            {
                await management.UnbindSuperStreamPartitionAsync(superStream, $"{superStream}-us", Ct);
            }

            Assert.Equal([$"{superStream}-us"], (await removed).Removed);
            Assert.Equal([$"{superStream}-eu", $"{superStream}-apac"], router.Partitions);

            // The cached route of "us" was dropped with the change: the key is now refused.
            await Assert.ThrowsAsync<SuperStreamRoutingException>(async () => await router.RouteAsync("us", Ct));
        }
        finally
        {
            await system.DeleteSuperStreamAsync(superStream, Ct);
            await system.DeleteStreamAsync($"{superStream}-us", Ct);
        }
    }

    [Fact]
    public async Task Consumer_and_producer_drop_an_unbound_and_a_deleted_partition_without_failing()
    {
        await using var system = await ConnectAsync("refresh-remove");
        var superStream = BrokerFixture.UniqueName("refresh-remove");
        await system.CreateSuperStreamAsync(superStream, 4, cancellationToken: Ct);
        var unbound = $"{superStream}-3";
        var deleted = $"{superStream}-2";
        try
        {
            var seen = new ConcurrentQueue<(string Partition, string Key)>();
            await using var consumer = await system.CreateSuperStreamConsumerAsync(new SuperStreamConsumerOptions(superStream)
            {
                Offset = OffsetSpecification.First,
                PartitionRefreshInterval = Refresh,
                Handler = (delivery, _) =>
                {
                    seen.Enqueue((delivery.Stream, KeyOf(delivery.DecodeMessage())));
                    return ValueTask.CompletedTask;
                },
            }, Ct);
            await using var producer = await system.CreateSuperStreamProducerAsync(new SuperStreamProducerOptions(superStream, KeyOf) { PartitionRefreshInterval = Refresh }, Ct);
            Assert.Equal(4, consumer.Consumers.Count);
            var unboundConsumer = consumer.Consumers[unbound];

            var consumerFollowed = NextChange(h => consumer.PartitionsChanged += h, _ => consumer.Partitions.Count == 2);
            var producerFollowed = NextChange(h => producer.PartitionsChanged += h, _ => producer.Partitions.Count == 2);
            using (var management = Management())
            {
                await management.UnbindSuperStreamPartitionAsync(superStream, unbound, Ct);
                await management.DeleteQueueAsync(deleted, Ct);
            }

            await Task.WhenAll(consumerFollowed, producerFollowed);
            Assert.Equal([$"{superStream}-0", $"{superStream}-1"], consumer.Partitions);
            Assert.Equal([$"{superStream}-0", $"{superStream}-1"], consumer.Consumers.Keys.Order(StringComparer.Ordinal));
            Assert.Equal([$"{superStream}-0", $"{superStream}-1"], producer.Partitions);
            Assert.False(consumer.Completion.IsCompleted, "a removed partition does not end the super-stream consumer");
            await unboundConsumer.Completion.WaitAsync(TimeSpan.FromSeconds(10), Ct); // closed, not failed

            // Hash routing is over the two remaining partitions now.
            for (var i = 1; i <= 10; i++)
            {
                await producer.SendAsync(Keyed($"hello{i}"), Ct);
            }

            await WaitUntilAsync(() => seen.Count >= 10);
            Assert.All(seen, s => Assert.Equal($"{superStream}-{SuperStreamProducer.HashPartition(s.Key, 2)}", s.Partition));
            Assert.Null((await system.GetStreamStatisticsAsync(unbound, Ct)).LastChunkId); // nothing routed to the unbound partition
        }
        finally
        {
            await system.DeleteSuperStreamAsync(superStream, Ct);
            await system.DeleteStreamAsync(unbound, Ct);
        }
    }

    [Fact]
    public void Watcher_and_router_options_are_validated()
    {
        var topology = new EmptyTopology();
        Assert.Throws<ArgumentOutOfRangeException>(() => new SuperStreamPartitionWatcher(topology, "s", ["s-0"], TimeSpan.Zero, (_, _) => Task.CompletedTask));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SuperStreamRouterOptions("s") { PartitionRefreshInterval = TimeSpan.FromSeconds(-1) }.Validate());
        Assert.Throws<ArgumentException>(() => new SuperStreamRouterOptions(" "));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SuperStreamConsumerOptions("s") { PartitionRefreshInterval = TimeSpan.Zero }.Validate());
    }

    [Fact]
    public void A_change_lists_the_added_and_removed_partitions()
    {
        var change = new SuperStreamPartitionsChangedEventArgs("s", ["s-0", "s-1", "s-2"], ["s-0", "s-2", "s-3"]);
        Assert.Equal(["s-3"], change.Added);
        Assert.Equal(["s-1"], change.Removed);
        Assert.Equal(["s-0", "s-2", "s-3"], change.Partitions);
    }

    private static Task WaitUntilAsync(Func<bool> condition) => Eventually.TrueAsync(condition);

    private sealed class EmptyTopology : ISuperStreamTopology
    {
        public Task<IReadOnlyList<string>> QueryPartitionsAsync(string superStream, CancellationToken cancellationToken = default) => Task.FromResult<IReadOnlyList<string>>([]);

        public Task<IReadOnlyList<string>> QueryRouteAsync(string routingKey, string superStream, CancellationToken cancellationToken = default) => Task.FromResult<IReadOnlyList<string>>([]);
    }
}
