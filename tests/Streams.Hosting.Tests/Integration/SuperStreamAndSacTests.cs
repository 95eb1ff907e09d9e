using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Client;
using Streams.Hosting.Tests.Consuming;
using Streams.Testing;

namespace Streams.Hosting.Tests.Integration;

[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class SuperStreamAndSacTests(BrokerFixture broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Super_stream_routes_by_key_and_keeps_per_partition_order()
    {
        var superStream = BrokerFixture.UniqueName("hosting-ss");
        using var host = TestHost.Build(broker, b => b
            .AddSuperStream(superStream, 3)
            .AddConsumer<OrderHandler>(c => { c.Stream = superStream; c.SuperStream = true; c.Name = "ss"; }));
        await host.StartAsync(Ct);
        var probe = host.Services.GetRequiredService<Probe>();
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        var statuses = host.Services.GetRequiredService<IStreamConsumerMonitor>().GetConsumers();
        Assert.Equal([$"{superStream}-0", $"{superStream}-1", $"{superStream}-2"], statuses.Select(s => s.Partition));

        for (var i = 0; i < 30; i++)
        {
            var key = $"key{i % 5}";
            await publisher.PublishAsync(superStream, new Order($"{key}/{i}", i), new PublishOptions { RoutingKey = key }, Ct);
        }

        var received = await probe.TakeAsync(30);
        foreach (var group in received.GroupBy(r => ((Order)r.Message).Id.Split('/')[0]))
        {
            var expected = $"{superStream}-{SuperStreamProducer.HashPartition(group.Key, 3)}";
            Assert.All(group, r => Assert.Equal((superStream, expected), (r.Context.Stream, r.Context.Partition)));
            var sequence = group.Select(r => ((Order)r.Message).Amount).ToList();
            Assert.Equal(sequence.Order(), sequence);
        }

        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Super_stream_with_binding_keys_routes_by_key()
    {
        var superStream = BrokerFixture.UniqueName("hosting-keys");
        using var host = TestHost.Build(broker, b => b
            .AddSuperStream(superStream, ["eu", "us", "apac"])
            .AddConsumer<OrderHandler>(c => { c.Stream = superStream; c.SuperStream = true; c.Name = "regions"; }));
        await host.StartAsync(Ct);
        var probe = host.Services.GetRequiredService<Probe>();
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        Assert.Equal([$"{superStream}-eu", $"{superStream}-us", $"{superStream}-apac"],
            host.Services.GetRequiredService<IStreamConsumerMonitor>().GetConsumers().Select(s => s.Partition));

        foreach (var (key, i) in new[] { "us", "eu", "us", "apac" }.Select((k, i) => (k, i)))
        {
            await publisher.PublishAsync(superStream, new Order($"{key}/{i}", i), new PublishOptions { RoutingKey = key }, Ct);
        }

        var received = await probe.TakeAsync(4);
        Assert.All(received, r => Assert.Equal($"{superStream}-{((Order)r.Message).Id.Split('/')[0]}", r.Context.Partition));

        // A key no partition is bound to is refused, not hashed onto some partition.
        var ex = await Assert.ThrowsAsync<StreamPublishException>(() => publisher.PublishAsync(superStream, new Order("x", 1), new PublishOptions { RoutingKey = "mars" }, Ct));
        Assert.Contains("'mars'", ex.Message, StringComparison.Ordinal);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Single_active_consumer_fails_over_to_the_other_host_from_the_stored_offset()
    {
        var stream = BrokerFixture.UniqueName("hosting-sac");
        var probe1 = new Probe();
        var probe2 = new Probe();
        void Configure(IRabbitStreamsBuilder b) => b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "sac"; c.SingleActiveConsumer = true; });
        using var host1 = TestHost.Build(broker, Configure, probe: probe1);
        using var host2 = TestHost.Build(broker, Configure, probe: probe2);
        await host1.StartAsync(Ct);
        await TestHost.WaitUntilAsync(() => host1.Services.GetRequiredService<IStreamConsumerMonitor>().GetConsumers()[0].State == StreamConsumerState.Running, "host1 subscribed");
        await host2.StartAsync(Ct);
        await TestHost.WaitUntilAsync(() => host2.Services.GetRequiredService<IStreamConsumerMonitor>().GetConsumers()[0].State == StreamConsumerState.Running, "host2 subscribed");

        var publisher = host2.Services.GetRequiredService<IStreamPublisher>();
        for (var i = 0; i < 5; i++)
        {
            await publisher.PublishAsync(stream, new Order($"first-{i}", i), Ct);
        }

        await probe1.TakeAsync(5);
        await Task.Delay(300, Ct);
        Assert.Empty(probe2.All);
        Assert.True(host1.Services.GetRequiredService<IStreamConsumerMonitor>().GetConsumers()[0].IsActive);
        Assert.False(host2.Services.GetRequiredService<IStreamConsumerMonitor>().GetConsumers()[0].IsActive);

        await host1.StopAsync(Ct); // stores offset, unsubscribes: host2 becomes active
        for (var i = 0; i < 5; i++)
        {
            await publisher.PublishAsync(stream, new Order($"second-{i}", i), Ct);
        }

        var received = await probe2.TakeAsync(5);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"second-{i}"), received.Select(r => ((Order)r.Message).Id));
        await host2.StopAsync(Ct);
    }

    [Fact]
    public async Task Two_hosts_with_single_active_consumer_split_the_partitions_of_a_super_stream()
    {
        var superStream = BrokerFixture.UniqueName("hosting-ss-sac");
        var probe1 = new Probe();
        var probe2 = new Probe();
        void Configure(IRabbitStreamsBuilder b) => b.AddSuperStream(superStream, 3)
            .AddConsumer<OrderHandler>(c => { c.Stream = superStream; c.SuperStream = true; c.Name = "split"; c.SingleActiveConsumer = true; });
        using var host1 = TestHost.Build(broker, Configure, probe: probe1);
        using var host2 = TestHost.Build(broker, Configure, probe: probe2);
        await host1.StartAsync(Ct);
        await host2.StartAsync(Ct);
        await TestHost.WaitUntilAsync(
            () => host1.Services.GetRequiredService<IStreamConsumerMonitor>().GetConsumers().Concat(host2.Services.GetRequiredService<IStreamConsumerMonitor>().GetConsumers())
                .All(s => s.State == StreamConsumerState.Running),
            "all partition subscriptions running");
        await Task.Delay(500, Ct); // let the broker finish rebalancing the group

        var publisher = host1.Services.GetRequiredService<IStreamPublisher>();
        for (var i = 0; i < 30; i++)
        {
            await publisher.PublishAsync(superStream, new Order($"k{i % 6}/{i}", i), new PublishOptions { RoutingKey = $"k{i % 6}" }, Ct);
        }

        await TestHost.WaitUntilAsync(() => probe1.All.Count + probe2.All.Count >= 30, "30 messages handled across both hosts");
        await Task.Delay(300, Ct);
        Assert.Equal(30, probe1.All.Count + probe2.All.Count);
        var partitions1 = probe1.All.Select(r => r.Context.Partition).ToHashSet();
        var partitions2 = probe2.All.Select(r => r.Context.Partition).ToHashSet();
        Assert.NotEmpty(partitions1);
        Assert.NotEmpty(partitions2);
        Assert.Empty(partitions1.Intersect(partitions2));
        await host1.StopAsync(Ct);
        await host2.StopAsync(Ct);
    }
}
