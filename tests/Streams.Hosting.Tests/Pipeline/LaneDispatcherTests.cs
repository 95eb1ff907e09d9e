using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Client;
using Streams.Hosting.Internal.Pipeline;

namespace Streams.Hosting.Tests.Pipeline;

public sealed class LaneDispatcherTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Messages_without_group_id_go_round_robin_and_a_group_id_always_to_the_same_lane()
    {
        var dispatcher = new LaneDispatcher(3, (_, _, _) => Task.CompletedTask, Committer());
        Assert.Equal([0, 1, 2, 0], Enumerable.Range(0, 4).Select(_ => dispatcher.SelectLane(null)));
        var lane = dispatcher.SelectLane("customer-1");
        Assert.All(Enumerable.Range(0, 10), _ => Assert.Equal(lane, dispatcher.SelectLane("customer-1")));
    }

    [Fact]
    public async Task A_group_is_handled_in_order_and_the_processed_offset_is_the_watermark_of_finished_messages()
    {
        var committer = Committer();
        var lanes = new LaneDispatcher(4, (_, _, _) => Task.CompletedTask, committer);
        var slowLane = lanes.SelectLane("g0");
        var expectedOthers = Enumerable.Range(0, 9).Count(i => lanes.SelectLane($"g{i % 3}") != slowLane);
        var seen = new ConcurrentQueue<(string Group, ulong Offset)>();
        var slow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var others = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (expectedOthers == 0)
        {
            others.SetResult(); // every group hashed to the slow lane
        }
        var dispatcher = new LaneDispatcher(4, async (item, _, _) =>
        {
            if (item.Offset == 0)
            {
                await slow.Task; // the first message's lane is slow: nothing after it may count as processed
            }

            seen.Enqueue((item.Message!.Properties!.GroupId!, item.Offset));
            if (seen.Count(s => lanes.SelectLane(s.Group) != slowLane) == expectedOthers)
            {
                others.TrySetResult();
            }
        }, committer);

        // At most 9 messages on the slow lane (its capacity and the one in hand): the others are never held up.
        var items = Enumerable.Range(0, 9).Select(i => Item((ulong)i, $"g{i % 3}")).ToList();
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var source = System.Threading.Channels.Channel.CreateUnbounded<DeliveryItem>();
        items.ForEach(i => source.Writer.TryWrite(i));
        using var stop = new CancellationTokenSource();
        var run = dispatcher.RunAsync(source.Reader.ReadAllAsync(Ct), stop.Token, CancellationToken.None);
        await others.Task.WaitAsync(Ct);
        Assert.Equal(-1, committer.LastProcessed);

        slow.SetResult();
        while (committer.LastProcessed < 8)
        {
            await Task.Delay(1, Ct); // the lanes finish the slow group
        }

        await stop.CancelAsync();
        await run.WaitAsync(Ct);
        Assert.Equal(9, seen.Count);
        Assert.Equal(8, committer.LastProcessed);
        foreach (var group in seen.GroupBy(s => s.Group))
        {
            Assert.Equal(group.Select(g => g.Offset).Order(), group.Select(g => g.Offset));
        }
    }

    [Fact]
    public async Task A_consumer_stop_in_one_lane_halts_the_others_and_is_rethrown()
    {
        var handled = 0;
        var dispatcher = new LaneDispatcher(2, (item, halt, _) =>
        {
            if (item.Offset == 3)
            {
                throw new ConsumerStoppedException(new InvalidOperationException("stop"));
            }

            Interlocked.Increment(ref handled);
            return Task.CompletedTask;
        }, Committer());

        var error = await Assert.ThrowsAsync<ConsumerStoppedException>(() => dispatcher.RunAsync(Endless(Ct), CancellationToken.None, CancellationToken.None));
        Assert.Equal("stop", error.Message);
    }

    private static OffsetCommitter Committer() =>
        new(null!, null, "s", 1_000_000, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(5), TimeProvider.System, NullLogger.Instance, null);

    private static DeliveryItem Item(ulong offset, string group) =>
        new(offset, 0, DateTimeOffset.UnixEpoch, new Message(new byte[] { 1 }) { Properties = new MessageProperties { GroupId = group } }, null, null);

    private static async IAsyncEnumerable<DeliveryItem> Endless([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (ulong i = 0; ; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return new DeliveryItem(i, 0, DateTimeOffset.UnixEpoch, null, [1], null);
        }
    }
}
