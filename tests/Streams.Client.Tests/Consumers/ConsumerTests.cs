using System.Buffers;
using Streams.Client.Connections;
using Streams.Client.Tests.Producers;

namespace Streams.Client.Tests.Consumers;

public sealed class ConsumerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static byte[] M(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static (FrameBuffer Buffer, ReadOnlyMemory<byte> Chunk) Frame(byte[] chunk)
    {
        // Like the connection: a pooled array holding the frame, the chunk somewhere inside it.
        var array = ArrayPool<byte>.Shared.Rent(chunk.Length + 5);
        chunk.CopyTo(array, 5);
        return (new FrameBuffer(array), array.AsMemory(5, chunk.Length));
    }

    private static void Deliver(FakeStreamOperations ops, byte[] chunk, out FrameBuffer buffer)
    {
        var (b, memory) = Frame(chunk);
        buffer = b;
        ops.Subscription!.OnDeliver(b, memory, committedChunkId: null);
    }

    [Fact]
    public async Task Subscribes_with_resolved_offset_and_returns_one_credit_per_chunk()
    {
        var ops = new FakeStreamOperations { StoredOffset = 41 };
        await using var consumer = await Consumer.CreateAsync(ops, new ConsumerOptions("s1") { Name = "c", InitialCredits = 3 }, null, Ct);
        Assert.Contains("subscribe 5 s1 offset 42 3", ops.Calls);

        Deliver(ops, new ChunkBuilder().Simple(M("a")).Simple(M("b")).Build(40), out var b1);
        Deliver(ops, new ChunkBuilder().Simple(M("c")).Build(42), out var b2);
        Deliver(ops, new ChunkBuilder().Simple(M("d")).Simple(M("e")).Build(43), out var b3);
        var offsets = new List<(ulong, string)>();
        await foreach (var d in consumer.ReadAllAsync(Ct))
        {
            offsets.Add((d.Offset, System.Text.Encoding.UTF8.GetString(d.Body.Span)));
            if (offsets.Count == 3)
            {
                break;
            }
        }

        Assert.Equal([(42ul, "c"), (43ul, "d"), (44ul, "e")], offsets);
        Assert.Equal(3, ops.Credits.Count(c => c == (5, 1)) + 1); // the last chunk's credit follows the next MoveNext
        Assert.Throws<ObjectDisposedException>(() => b1.Array);
        Assert.Throws<ObjectDisposedException>(() => b2.Array);
        Assert.Throws<ObjectDisposedException>(() => b3.Array); // released when the enumeration was left
    }

    [Fact]
    public async Task Crc_mismatch_fails_the_consumer()
    {
        var ops = new FakeStreamOperations();
        await using var consumer = await Consumer.CreateAsync(ops, new ConsumerOptions("s1"), null, Ct);
        Deliver(ops, new ChunkBuilder().Simple(M("a")).Build(0, crc: 1234), out var buffer);
        var ex = await Assert.ThrowsAsync<ChunkFormatException>(async () =>
        {
            await foreach (var _ in consumer.ReadAllAsync(Ct))
            {
            }
        });
        Assert.Contains("CRC", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ObjectDisposedException>(() => buffer.Array);
        await Assert.ThrowsAsync<ChunkFormatException>(() => consumer.Completion);
    }

    [Fact]
    public async Task Crc_check_can_be_disabled()
    {
        var ops = new FakeStreamOperations();
        await using var consumer = await Consumer.CreateAsync(ops, new ConsumerOptions("s1") { CrcCheck = false }, null, Ct);
        Deliver(ops, new ChunkBuilder().Simple(M("a")).Build(0, crc: 1234), out _);
        await foreach (var d in consumer.ReadAllAsync(Ct))
        {
            Assert.Equal(0ul, d.Offset);
            break;
        }
    }

    [Fact]
    public async Task Dispose_unsubscribes_and_releases_queued_chunks()
    {
        var ops = new FakeStreamOperations();
        var consumer = await Consumer.CreateAsync(ops, new ConsumerOptions("s1"), null, Ct);
        Deliver(ops, new ChunkBuilder().Simple(M("a")).Build(0), out var b1);
        Deliver(ops, new ChunkBuilder().Simple(M("b")).Build(1), out var b2);
        await consumer.DisposeAsync();
        Assert.Contains("unsubscribe 5", ops.Calls);
        Assert.Contains("unregister-subscription 5", ops.Calls);
        Assert.Throws<ObjectDisposedException>(() => b1.Array);
        Assert.Throws<ObjectDisposedException>(() => b2.Array);
        Assert.True(ops.Released);
        await consumer.Completion;

        // A late delivery after dispose is released at once.
        Deliver(ops, new ChunkBuilder().Simple(M("c")).Build(2), out var b3);
        Assert.Throws<ObjectDisposedException>(() => b3.Array);
    }

    [Fact]
    public async Task Handler_receives_deliveries_and_named_consumer_can_store()
    {
        var ops = new FakeStreamOperations();
        var seen = new List<ulong>();
        var done = new TaskCompletionSource();
        await using var consumer = await Consumer.CreateAsync(ops, new ConsumerOptions("s1")
        {
            Name = "n",
            Offset = OffsetSpecification.Offset(3),
            Handler = async (d, _) =>
            {
                seen.Add(d.Offset);
                Assert.Equal("s1", d.Stream);
                Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), d.Timestamp);
                await d.StoreOffsetAsync();
                if (d.Offset == 5)
                {
                    done.SetResult();
                }
            },
        }, null, Ct);
        Deliver(ops, new ChunkBuilder().Simple(M("a")).SubBatch(1, M("b"), M("c"), M("d")).Simple(M("e")).Simple(M("f")).Build(0), out _);
        await done.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal([3ul, 4ul, 5ul], seen);
        Assert.Contains("store n s1 5", ops.Calls);
    }

    [Fact]
    public async Task Consumer_update_answers_with_the_stored_offset_when_activated()
    {
        var ops = new FakeStreamOperations { StoredOffset = 9 };
        await using var consumer = await Consumer.CreateAsync(ops, new ConsumerOptions("s1") { Name = "g", Offset = OffsetSpecification.First }, null, Ct);
        Assert.Equal(OffsetSpecification.None, await ops.Subscription!.OnConsumerUpdateAsync(false));
        Assert.False(consumer.IsActive);
        Assert.Equal(OffsetSpecification.Offset(10), await ops.Subscription.OnConsumerUpdateAsync(true));
        Assert.True(consumer.IsActive);
    }

    [Fact]
    public async Task Consuming_a_chunk_does_not_allocate_per_message()
    {
        var ops = new FakeStreamOperations();
        long count = 0;
        var done = new TaskCompletionSource();
        const int Chunks = 200;
        const int PerChunk = 500;
        await using var consumer = await Consumer.CreateAsync(ops, new ConsumerOptions("s1")
        {
            Handler = (d, _) =>
            {
                if (++count == (long)Chunks * PerChunk)
                {
                    done.SetResult();
                }

                return ValueTask.CompletedTask;
            },
        }, null, Ct);

        var builder = new ChunkBuilder();
        for (int i = 0; i < PerChunk; i++)
        {
            builder.Simple(new byte[100]);
        }

        var chunk = builder.Build(0);
        var frames = Enumerable.Range(0, Chunks).Select(_ => Frame(chunk)).ToArray();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        foreach (var (buffer, memory) in frames)
        {
            ops.Subscription!.OnDeliver(buffer, memory, null);
        }

        await done.Task.WaitAsync(TimeSpan.FromSeconds(20), Ct);
        long perMessage = (GC.GetTotalAllocatedBytes(precise: true) - before) / ((long)Chunks * PerChunk);
        Assert.True(perMessage <= 2, $"{perMessage} B/message");
    }
}
