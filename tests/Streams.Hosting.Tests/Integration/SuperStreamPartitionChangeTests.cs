using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Client;
using Streams.Hosting.Tests.Consuming;
using Streams.Testing;

namespace Streams.Hosting.Tests.Integration;

/// <summary>
/// Issue 17 item 5 against the broker: partitions added to a super stream while a host runs (a stream queue bound to
/// the super stream's exchange with the next <c>x-stream-partition-order</c>, through the management API) are
/// published to by <see cref="IStreamPublisher"/> and consumed by the hosted consumer without a restart; unbound and
/// deleted partitions are dropped cleanly.
/// </summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class SuperStreamPartitionChangeTests(BrokerFixture broker)
{
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(200);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ManagementClient Management() => new(broker.Endpoint.ManagementUri, broker.Endpoint.UserName, broker.Endpoint.Password);

    private static IReadOnlyList<StreamConsumerStatus> Consumers(IHost host) => host.Services.GetRequiredService<IStreamConsumerMonitor>().GetConsumers();

    /// <summary>Publishes <paramref name="id"/> with <paramref name="key"/> until the handler saw it from <paramref name="partition"/> (the publisher's refresh).</summary>
    private static async Task PublishUntilConsumedFromAsync(IStreamPublisher publisher, Probe probe, string superStream, string key, string partition)
    {
        // While the publisher's router is stale, a probe may go to a partition nobody consumes (an unbound one): each
        // attempt waits a moment for its delivery, then publishes again.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        for (var attempt = 0; ; attempt++)
        {
            await publisher.PublishAsync(superStream, new Order($"probe-{key}-{attempt}", attempt), new PublishOptions { RoutingKey = key }, Ct);
            string? seen = null;
            try
            {
                var (message, context) = (await probe.TakeAsync(1, TimeSpan.FromMilliseconds(500)))[0];
                Assert.StartsWith($"probe-{key}-", ((Order)message).Id, StringComparison.Ordinal);
                if (context.Partition == partition)
                {
                    return;
                }

                seen = context.Partition;
            }
            catch (TimeoutException)
            {
                seen = "(not consumed)";
            }

            Assert.True(DateTime.UtcNow < deadline, $"'{key}' was still routed to {seen}, not {partition}, after 30 s");
        }
    }

    /// <summary>A host consuming <paramref name="superStream"/> with <see cref="OrderHandler"/>, started with every partition consumer running.</summary>
    private async Task<IHost> StartAsync(Action<IRabbitStreamsBuilder> declare, string superStream, string name, int partitions, Action<RabbitStreamsOptions> options, Probe probe, OffsetSpecification? offset = null)
    {
        var host = TestHost.Build(broker, b =>
        {
            declare(b);
            b.AddConsumer<OrderHandler>(c => { c.Stream = superStream; c.SuperStream = true; c.Name = name; c.Offset = offset ?? c.Offset; });
        }, options, probe);
        await host.StartAsync(Ct);
        await TestHost.WaitUntilAsync(() => Consumers(host).Count == partitions && Consumers(host).All(c => c.State == StreamConsumerState.Running), $"{partitions} partition consumers running");
        return host;
    }

    private async Task StopAndDeleteAsync(IHost host, string superStream, params string[] streams)
    {
        await host.StopAsync(Ct);
        host.Dispose();
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        await system.DeleteSuperStreamAsync(superStream, Ct);
        foreach (var stream in streams)
        {
            await system.DeleteStreamAsync(stream, Ct);
        }
    }

    /// <summary>The next <paramref name="count"/> deliveries, skipping late probes of <see cref="PublishUntilConsumedFromAsync"/>.</summary>
    private static async Task<List<(object Message, StreamContext Context)>> TakeOrdersAsync(Probe probe, int count)
    {
        var orders = new List<(object Message, StreamContext Context)>();
        while (orders.Count < count)
        {
            orders.AddRange((await probe.TakeAsync(1)).Where(r => !((Order)r.Message).Id.StartsWith("probe-", StringComparison.Ordinal)));
        }

        return orders;
    }

    [Fact]
    public async Task A_partition_added_while_the_host_runs_is_routed_to_by_hash_and_consumed_without_a_restart()
    {
        var superStream = BrokerFixture.UniqueName("grow-hash");
        var probe = new Probe();
        var host = await StartAsync(b => b.AddSuperStream(superStream, 2), superStream, "grow", 2, o => o.SuperStreams.PartitionRefreshInterval = Refresh, probe);
        try
        {
            var publisher = host.Services.GetRequiredService<IStreamPublisher>();

            // The publisher's router exists (and caches two partitions) before the partition is added.
            var third = $"{superStream}-2";
            Assert.Equal(2, SuperStreamProducer.HashPartition("hello4", 3));
            await publisher.PublishAsync(superStream, new Order("before", 0), new PublishOptions { RoutingKey = "hello4" }, Ct);
            Assert.Equal($"{superStream}-{SuperStreamProducer.HashPartition("hello4", 2)}", (await probe.TakeAsync(1))[0].Context.Partition);

            using (var management = Management())
            {
                await management.AddSuperStreamPartitionAsync(superStream, third, "2", order: 2, Ct);
            }

            await TestHost.WaitUntilAsync(() => Consumers(host).Any(c => c.Partition == third && c.State == StreamConsumerState.Running), "the new partition's consumer running");
            Assert.Equal([$"{superStream}-0", $"{superStream}-1", third], Consumers(host).Select(c => c.Partition));
            await PublishUntilConsumedFromAsync(publisher, probe, superStream, "hello4", third);

            // From now on, hash routing is over three partitions: hello1..hello10 land as the reference vectors say.
            for (var i = 1; i <= 10; i++)
            {
                await publisher.PublishAsync(superStream, new Order($"hello{i}", i), new PublishOptions { RoutingKey = $"hello{i}" }, Ct);
            }

            var received = await TakeOrdersAsync(probe, 10);
            Assert.All(received, r => Assert.Equal($"{superStream}-{SuperStreamProducer.HashPartition(((Order)r.Message).Id, 3)}", r.Context.Partition));
            Assert.Equal(["hello10", "hello4", "hello6"], received.Where(r => r.Context.Partition == third).Select(r => ((Order)r.Message).Id).Order(StringComparer.Ordinal));
            Assert.Equal(StreamConsumerState.Running, Assert.Single(Consumers(host), c => c.Partition == third).State);
        }
        finally
        {
            await StopAndDeleteAsync(host, superStream);
        }
    }

    [Fact]
    public async Task A_binding_key_added_while_the_host_runs_is_routed_to_by_key_and_consumed_from_its_first_message()
    {
        var superStream = BrokerFixture.UniqueName("grow-key");
        var probe = new Probe();
        var host = await StartAsync(
            b => b.AddSuperStream(superStream, ["eu", "us"]), superStream, "regions", 2, o => o.SuperStreams.PartitionRefreshIntervals[superStream] = Refresh, probe, OffsetSpecification.Next);
        try
        {
            var publisher = host.Services.GetRequiredService<IStreamPublisher>();
            var refused = await Assert.ThrowsAsync<StreamPublishException>(() => publisher.PublishAsync(superStream, new Order("x", 0), new PublishOptions { RoutingKey = "apac" }, Ct));
            Assert.Contains("no partition is bound to routing key 'apac'", refused.Message, StringComparison.Ordinal);

            var apac = $"{superStream}-apac";
            using (var management = Management())
            {
                await management.AddSuperStreamPartitionAsync(superStream, apac, "apac", order: 2, Ct);
            }

            // Publish as soon as the publisher knows the binding, before or after the consumer's own refresh: a partition
            // added at run time is read from its first message (the consumer's Offset = Next applies only at start).
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (true)
            {
                try
                {
                    await publisher.PublishAsync(superStream, new Order("apac-1", 1), new PublishOptions { RoutingKey = "apac" }, Ct);
                    break;
                }
                catch (StreamPublishException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(50, Ct);
                }
            }

            var (message, context) = (await probe.TakeAsync(1))[0];
            Assert.Equal((new Order("apac-1", 1), apac), ((Order)message, context.Partition));
            await TestHost.WaitUntilAsync(() => Consumers(host).Any(c => c.Partition == apac && c.Name == "regions" && c.LastProcessedOffset == 0), "the status shows the new partition's consumer");
        }
        finally
        {
            await StopAndDeleteAsync(host, superStream);
        }
    }

    [Fact]
    public async Task An_unbound_and_a_deleted_partition_stop_their_consumers_cleanly_and_are_no_longer_routed_to()
    {
        var superStream = BrokerFixture.UniqueName("shrink");
        var probe = new Probe();
        var host = await StartAsync(b => b.AddSuperStream(superStream, 4), superStream, "shrink", 4, o => o.SuperStreams.PartitionRefreshInterval = Refresh, probe);
        var unbound = $"{superStream}-3";
        var deleted = $"{superStream}-2";
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        try
        {
            var publisher = host.Services.GetRequiredService<IStreamPublisher>();
            for (var i = 1; i <= 20; i++)
            {
                await publisher.PublishAsync(superStream, new Order($"k{i}", i), new PublishOptions { RoutingKey = $"k{i}" }, Ct);
            }

            var first = await probe.TakeAsync(20);
            var onUnbound = first.Count(r => r.Context.Partition == unbound);
            Assert.True(onUnbound > 0, "some keys hash to the partition that is unbound next");

            using (var management = Management())
            {
                await management.UnbindSuperStreamPartitionAsync(superStream, unbound, Ct);
                await management.DeleteQueueAsync(deleted, Ct);
            }

            await TestHost.WaitUntilAsync(() => Consumers(host).Select(c => c.Partition).SequenceEqual([$"{superStream}-0", $"{superStream}-1"]), "only the two remaining partitions consumed");
            Assert.All(Consumers(host), c => Assert.Equal(StreamConsumerState.Running, c.State));

            // The unbound partition's consumer stored what it processed when it stopped.
            Assert.Equal((ulong)(onUnbound - 1), await system.QueryOffsetAsync("shrink", unbound, Ct));

            // The publisher routes over the two remaining partitions (once its own refresh ran).
            var key = Enumerable.Range(1, 100).Select(i => $"k{i}").First(k => SuperStreamProducer.HashPartition(k, 4) == 3);
            await PublishUntilConsumedFromAsync(publisher, probe, superStream, key, $"{superStream}-{SuperStreamProducer.HashPartition(key, 2)}");
            var before = (await system.GetStreamStatisticsAsync(unbound, Ct)).LastChunkId;
            for (var i = 1; i <= 20; i++)
            {
                await publisher.PublishAsync(superStream, new Order($"after{i}", i), new PublishOptions { RoutingKey = $"k{i}" }, Ct);
            }

            var after = await TakeOrdersAsync(probe, 20);
            Assert.All(after, r => Assert.Equal($"{superStream}-{SuperStreamProducer.HashPartition(((Order)r.Message).Id.Replace("after", "k", StringComparison.Ordinal), 2)}", r.Context.Partition));
            Assert.Equal(before, (await system.GetStreamStatisticsAsync(unbound, Ct)).LastChunkId);
        }
        finally
        {
            await StopAndDeleteAsync(host, superStream, unbound);
        }
    }
}
