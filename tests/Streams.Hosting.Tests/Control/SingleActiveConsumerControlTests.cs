using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Hosting.Tests.Consuming;
using Streams.Hosting.Tests.Integration;
using Streams.Testing;

namespace Streams.Hosting.Tests.Control;

/// <summary>Pause, resume and rewind with two hosts sharing a single-active-consumer name, and of a super stream consumer, on the broker.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class SingleActiveConsumerControlTests(BrokerFixture broker)
{
    private static readonly TimeSpan QuietWindow = TimeSpan.FromMilliseconds(750);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Pausing_the_active_member_keeps_the_whole_group_quiet_and_resume_continues_exactly_after()
    {
        await using var group = await StartGroupAsync("control-sac-pause");
        await PublishAsync(group.Active, group.Stream, 0, 2);
        await group.ActiveProbe.TakeAsync(2);

        await group.Active.Services.GetRequiredService<IStreamConsumerControl>().PauseAsync("grp", Ct);
        await PublishAsync(group.Active, group.Stream, 2, 2);
        await Task.Delay(QuietWindow, Ct);
        Assert.Equal(2, group.ActiveProbe.All.Count);
        Assert.Empty(group.StandbyProbe.All); // the paused member kept the subscription: the standby was not activated
        Assert.True(Status(group.Active).IsActive);
        Assert.Equal(StreamConsumerState.Paused, Status(group.Active).State);

        await group.Active.Services.GetRequiredService<IStreamConsumerControl>().ResumeAsync("grp", Ct);
        var after = await group.ActiveProbe.TakeAsync(2);
        Assert.Equal(["o-2", "o-3"], after.Select(h => ((Order)h.Message).Id));
        Assert.Equal(4, group.ActiveProbe.All.Count);
        Assert.Empty(group.StandbyProbe.All);
    }

    [Fact]
    public async Task Rewinding_on_the_standby_member_rewrites_the_group_offset_and_the_active_member_replays_from_it()
    {
        await using var group = await StartGroupAsync("control-sac-standby");
        await PublishAsync(group.Active, group.Stream, 0, 4);
        var first = await group.ActiveProbe.TakeAsync(4);
        await WaitForStoredAsync(group.Stream, first[3].Context.Offset);

        var target = first[1].Context.Offset;
        await group.Standby.Services.GetRequiredService<IStreamConsumerControl>().RewindAsync("grp", StreamRewindTarget.Offset(target), Ct);
        Assert.Equal(target - 1, await StoredAsync(group.Stream));

        // The active member sees the stored offset moved at its next commit (after it handles the next message) and
        // subscribes again from it; the group replays from the target, on whichever member is active then.
        await PublishAsync(group.Active, group.Stream, 4, 1);
        await TestHost.WaitUntilAsync(
            () => Replayed(group, first.Count + 1).Contains("o-3"),
            $"the group replays from o-1 (seen {string.Join(",", Replayed(group, first.Count + 1))})");
        var replayed = Replayed(group, first.Count + 1);
        Assert.Equal(["o-1", "o-2", "o-3"], replayed.SkipWhile(id => id != "o-1").Take(3));
    }

    [Fact]
    public async Task Rewinding_the_active_member_hands_the_group_over_from_the_new_stored_offset()
    {
        await using var group = await StartGroupAsync("control-sac-active");
        await PublishAsync(group.Active, group.Stream, 0, 3);
        var first = await group.ActiveProbe.TakeAsync(3);

        await group.Active.Services.GetRequiredService<IStreamConsumerControl>().RewindAsync("grp", StreamRewindTarget.Offset(first[1].Context.Offset), Ct);
        // The standby activated by the release read the rewritten stored offset (it may have stored past it since).
        await TestHost.WaitUntilAsync(() => Replayed(group, first.Count).Count >= 2, "o-1 and o-2 handled again");
        Assert.Equal(["o-1", "o-2"], Replayed(group, first.Count).Take(2));
    }

    [Fact]
    public async Task A_super_stream_consumer_name_pauses_and_rewinds_every_partition()
    {
        var superStream = BrokerFixture.UniqueName("control-super");
        var probe = new Probe();
        using var host = TestHost.Build(broker, b => b.AddSuperStream(superStream, 3)
            .AddConsumer<OrderHandler>(c => { c.Stream = superStream; c.SuperStream = true; c.Name = "split"; }), probe: probe);
        await host.StartAsync(Ct);
        var control = host.Services.GetRequiredService<IStreamConsumerControl>();
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        for (var i = 0; i < 6; i++)
        {
            await publisher.PublishAsync(superStream, new Order($"o-{i}", i), new PublishOptions { RoutingKey = $"k{i}" }, Ct);
        }

        await probe.TakeAsync(6);
        await control.PauseAsync("split", Ct);
        var statuses = host.Services.GetRequiredService<IStreamConsumerMonitor>().GetConsumers();
        Assert.Equal(3, statuses.Count);
        Assert.All(statuses, s => Assert.Equal(StreamConsumerState.Paused, s.State));

        await control.RewindAsync("split", StreamRewindTarget.First, Ct);
        await control.ResumeAsync("split", Ct);
        var again = await probe.TakeAsync(6);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"o-{i}").Order(), again.Select(h => ((Order)h.Message).Id).Order());
        await host.StopAsync(Ct);
    }

    private static List<string> Replayed(Group group, int skip) =>
        [.. group.ActiveProbe.All.Select(h => ((Order)h.Message).Id).Skip(skip).Concat(group.StandbyProbe.All.Select(h => ((Order)h.Message).Id))];

    private async Task<Group> StartGroupAsync(string prefix)
    {
        var stream = BrokerFixture.UniqueName(prefix);
        void Configure(IRabbitStreamsBuilder b) => b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "grp"; c.SingleActiveConsumer = true; });
        var probe1 = new Probe();
        var probe2 = new Probe();
        var host1 = TestHost.Build(broker, Configure, probe: probe1);
        var host2 = TestHost.Build(broker, Configure, probe: probe2);
        await host1.StartAsync(Ct);
        await TestHost.WaitUntilAsync(() => Status(host1).State == StreamConsumerState.Running && Status(host1).IsActive, "host1 active");
        await host2.StartAsync(Ct);
        await TestHost.WaitUntilAsync(() => Status(host2).State == StreamConsumerState.Running, "host2 subscribed");
        Assert.False(Status(host2).IsActive);
        return new Group(stream, host1, probe1, host2, probe2);
    }

    private static StreamConsumerStatus Status(IHost host) => host.Services.GetRequiredService<IStreamConsumerMonitor>().GetConsumers().Single();

    private static async Task PublishAsync(IHost host, string stream, int from, int count)
    {
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        for (var i = from; i < from + count; i++)
        {
            await publisher.PublishAsync(stream, new Order($"o-{i}", i), Ct);
        }
    }

    private async Task<ulong?> StoredAsync(string stream)
    {
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        return await system.QueryOffsetAsync("grp", stream, Ct);
    }

    private async Task WaitForStoredAsync(string stream, ulong offset)
    {
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        await TestHost.WaitUntilAsync(async () => await system.QueryOffsetAsync("grp", stream, Ct) == offset, $"offset {offset} stored");
    }

    private sealed record Group(string Stream, IHost Active, Probe ActiveProbe, IHost Standby, Probe StandbyProbe) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Active.StopAsync(Ct);
            await Standby.StopAsync(Ct);
            Active.Dispose();
            Standby.Dispose();
        }
    }
}
