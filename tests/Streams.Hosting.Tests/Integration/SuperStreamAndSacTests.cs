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
        IReadOnlyList<StreamConsumerStatus> Of(IHost host) => host.Services.GetRequiredService<IStreamConsumerMonitor>().GetConsumers();

        // Settled: every subscription running, each partition with one active member and each host active on one at
        // least. The second host's arrival makes the broker move a partition to it, which takes a moment under load;
        // a message published before that is handled by the first host.
        bool Settled(out string seen)
        {
            var all = Of(host1).Select(s => (Host: 1, Status: s)).Concat(Of(host2).Select(s => (Host: 2, Status: s))).ToList();
            seen = string.Join("; ", all.Select(a => $"host {a.Host} {a.Status.Partition} {a.Status.State} active={a.Status.IsActive}"));
            return all.Count == 6
                && all.All(a => a.Status.State == StreamConsumerState.Running)
                && all.GroupBy(a => a.Status.Partition).All(g => g.Count(a => a.Status.IsActive) == 1)
                && all.Any(a => a.Host == 1 && a.Status.IsActive) && all.Any(a => a.Host == 2 && a.Status.IsActive);
        }

        var seen = "";
        try
        {
            await TestHost.WaitUntilAsync(() => Settled(out seen), "the group settled over both hosts");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}: {seen}", ex);
        }

        await Task.Delay(300, Ct);
        Assert.True(Settled(out seen), $"the group did not stay settled: {seen}");

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
