using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Streams.Hosting.Tests.Consuming;
using Streams.Hosting.Tests.Integration;

namespace Streams.Hosting.Tests.Harness;

/// <summary>
/// Issue 17 item 5 on the in-memory harness: a partition added to (or removed from) a super stream while the host runs
/// is followed on the next refresh of the host's clock, so applications can test it without a broker.
/// </summary>
public sealed class PartitionChangeHarnessTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_partition_added_and_one_removed_at_run_time_are_followed_on_the_next_refresh()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2030-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using var host = HarnessHost.Build(
            b => b.AddSuperStream("regions", ["eu", "us"])
                .AddConsumer<OrderHandler>(c => { c.Stream = "regions"; c.SuperStream = true; c.Name = "regional"; c.CommitEveryMessages = 1; }),
            o => o.SuperStreams.PartitionRefreshInterval = TimeSpan.FromMinutes(1),
            services: s => s.AddSingleton<TimeProvider>(clock));
        await host.StartAsync(Ct);
        var harness = host.Harness();
        var monitor = host.Services.GetRequiredService<IStreamConsumerMonitor>();
        await harness.PublishAsync("regions", new Order("eu-1", 1m), new PublishOptions { RoutingKey = "eu" }, Ct);
        await harness.WaitForConsumedAsync<Order>(o => o.Id == "eu-1", cancellationToken: Ct);

        harness.AddPartition("regions", "regions-apac", "apac");

        // Key routing asks for a key it has not routed yet: the new binding is published to at once, before the
        // consumers' refresh; the new partition's consumer then reads it from its first message.
        await harness.PublishAsync("regions", new Order("apac-1", 1m), new PublishOptions { RoutingKey = "apac" }, Ct);
        Assert.Single(harness.Read("regions-apac"));
        Assert.DoesNotContain(monitor.GetConsumers(), c => c.Partition == "regions-apac");

        clock.Advance(TimeSpan.FromMinutes(1));
        var consumed = await harness.WaitForConsumedAsync<Order>(o => o.Id == "apac-1", cancellationToken: Ct);
        Assert.Equal(("regions-apac", 0UL), (consumed.Context.Partition, consumed.Context.Offset));
        Assert.Equal(["regions-eu", "regions-us", "regions-apac"], monitor.GetConsumers().Select(c => c.Partition));

        await harness.PublishAsync("regions", new Order("us-1", 1m), new PublishOptions { RoutingKey = "us" }, Ct);
        await harness.WaitForConsumedAsync<Order>(o => o.Id == "us-1", cancellationToken: Ct);
        harness.RemovePartition("regions", "regions-us");
        clock.Advance(TimeSpan.FromMinutes(1));
        await TestHost.WaitUntilAsync(() => monitor.GetConsumers().All(c => c.Partition != "regions-us"), "the removed partition's consumer gone");
        Assert.Equal(0UL, harness.StoredOffset("regions-us", "regional"));
        var unbound = await Assert.ThrowsAsync<StreamPublishException>(() => harness.PublishAsync("regions", new Order("us-2", 1m), new PublishOptions { RoutingKey = "us" }, Ct));
        Assert.Contains("'us'", unbound.Message, StringComparison.Ordinal);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Adding_or_removing_a_partition_of_an_unknown_super_stream_or_a_wrong_partition_throws()
    {
        using var host = HarnessHost.Build(b => b.AddSuperStream("regions", ["eu"]));
        await host.StartAsync(Ct);
        var harness = host.Harness();
        Assert.Throws<Streams.Client.StreamDoesNotExistException>(() => harness.AddPartition("nope", "nope-1", "1"));
        Assert.Throws<ArgumentException>(() => harness.AddPartition("regions", "regions-eu", "eu"));
        Assert.Throws<ArgumentException>(() => harness.RemovePartition("regions", "regions-us"));
        Assert.Throws<InvalidOperationException>(() => harness.RemovePartition("regions", "regions-eu"));
        await host.StopAsync(Ct);
    }
}
