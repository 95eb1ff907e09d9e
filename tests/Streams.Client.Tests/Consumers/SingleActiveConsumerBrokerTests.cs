using Streams.Client.Tests.Producers;
using Streams.Testing;
using static Streams.Client.Tests.Recovery.RecoveryHarness;

namespace Streams.Client.Tests.Consumers;

/// <summary>Issue 4 item 3, must-show: two single active consumers in one group hand over without loss or duplicates.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class SingleActiveConsumerBrokerTests(BrokerFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Only_one_consumer_receives_and_disposing_it_hands_over_after_the_stored_offset()
    {
        const int Total = 2_000;
        await using var s = await BrokerStream.CreateAsync(fixture, "sac", Ct);
        var group = BrokerFixture.UniqueName("group");
        var first = new List<ulong>();
        var second = new List<ulong>();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        ConsumerOptions Options(List<ulong> seen, bool pauseHalfway) => new(s.Stream)
        {
            Name = group,
            SingleActiveConsumer = true,
            Offset = OffsetSpecification.First,
            Handler = async (d, ct) =>
            {
                ulong id = IdOf(d.Body.Span);
                if (pauseHalfway && id == Total / 2)
                {
                    // Hold the active consumer mid-stream, with chunks still buffered, until it is disposed.
                    await release.Task.WaitAsync(ct);
                }

                lock (seen)
                {
                    seen.Add(id);
                }
            },
        };

        var consumer1 = await s.System.CreateConsumerAsync(Options(first, pauseHalfway: true), Ct);
        ulong? activatedStored = null;
        var options2 = Options(second, pauseHalfway: false);
        options2.ActivationHandler = (activation, _) =>
        {
            activatedStored = activation.StoredOffset;
            return ValueTask.FromResult(activation.DefaultOffset);
        };
        await using var consumer2 = await s.System.CreateConsumerAsync(options2, Ct);

        await using (var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream), Ct))
        {
            for (ulong i = 1; i <= Total; i++)
            {
                await producer.Send(Body(i), _ => { }, Ct);
            }
        }

        await WaitUntilAsync(() => { lock (first) { return first.Count == (Total / 2) - 1; } }, TimeSpan.FromSeconds(30), "first consumer halfway");
        Assert.True(consumer1.IsActive);
        Assert.False(consumer2.IsActive);
        lock (second)
        {
            Assert.Empty(second);
        }

        // Disposing the active consumer cancels its handler (message Total/2 is not processed), stores the last processed
        // offset and leaves the group: the second consumer takes over right after it.
        await consumer1.DisposeAsync();
        await WaitUntilAsync(() => { lock (second) { return first.Count + second.Count >= Total; } }, TimeSpan.FromSeconds(30), $"hand-over ({first.Count} + {second.Count})");
        Assert.True(consumer2.IsActive);
        Assert.NotNull(activatedStored);

        List<ulong> all;
        lock (first)
        {
            lock (second)
            {
                all = [.. first, .. second];
            }
        }

        AssertExactlyOnceInOrder(all, Total, "both consumers together");
        Assert.Equal((ulong)(Total / 2), second[0]);
    }

    [Fact]
    public async Task Deactivation_stores_the_last_processed_offset_before_answering()
    {
        var ops = new FakeStreamOperations();
        var options = new ConsumerOptions("s1") { Name = "g", SingleActiveConsumer = true, Offset = OffsetSpecification.First };
        await using var consumer = await Consumer.CreateAsync(ops, options, null, Ct);
        Assert.Equal(OffsetSpecification.First, await ops.Subscription!.OnConsumerUpdateAsync(true));
        var frame = new ChunkBuilder().Simple([1]).Simple([2]).Build(7);
        var array = System.Buffers.ArrayPool<byte>.Shared.Rent(frame.Length);
        frame.CopyTo(array, 0);
        ops.Subscription.OnDeliver(new Streams.Client.Connections.FrameBuffer(array), array.AsMemory(0, frame.Length), null);
        await foreach (var d in consumer.ReadAllAsync(Ct))
        {
            if (d.Offset == 8)
            {
                break;
            }
        }

        Assert.Equal(OffsetSpecification.None, await ops.Subscription.OnConsumerUpdateAsync(false));
        Assert.Contains("store g s1 8", ops.Calls);
        Assert.False(consumer.IsActive);
    }
}
