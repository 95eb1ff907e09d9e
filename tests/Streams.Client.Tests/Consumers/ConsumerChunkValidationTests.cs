using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Testing;
using Streams.Client.Connections;
using Streams.Client.Tests.Producers;

namespace Streams.Client.Tests.Consumers;

/// <summary>
/// A malformed chunk found while iterating it (not only in the header) stops the consumer with the typed error: it is
/// what <see cref="Consumer.ReadAllAsync"/> throws and what <see cref="Consumer.Completion"/> faults with, and the push
/// path does not report it as a handler failure. Handler exceptions keep their behaviour.
/// </summary>
public sealed class ConsumerChunkValidationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static byte[] M(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static FrameBuffer Deliver(FakeStreamOperations ops, byte[] chunk)
    {
        // Like the connection: a pooled array holding the frame, the chunk somewhere inside it.
        var array = ArrayPool<byte>.Shared.Rent(chunk.Length + 5);
        chunk.CopyTo(array, 5);
        var buffer = new FrameBuffer(array);
        ops.Subscription!.OnDeliver(buffer, array.AsMemory(5, chunk.Length), committedChunkId: null);
        return buffer;
    }

    /// <summary>Enumerates until the consumer fails (or 10 s pass: then the enumeration is cancelled).</summary>
    private static async Task DrainAsync(Consumer consumer, List<ulong>? seen = null)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        await foreach (var d in consumer.ReadAllAsync(timeout.Token))
        {
            seen?.Add(d.Offset);
        }
    }

    /// <summary>A chunk whose header announces one record more than it holds: found only at its end.</summary>
    private static byte[] ShortOfRecords(ulong chunkId) => new ChunkBuilder().Simple(M("x")).Simple(M("y")).Build(chunkId, records: 3);

    /// <summary>A chunk whose gzip sub-batch is not gzip.</summary>
    private static byte[] NotGzip(ulong chunkId)
    {
        var garbage = M("definitely not gzip");
        return new ChunkBuilder().Simple(M("x")).SubBatchRaw(0x90, 1, 8, (uint)garbage.Length, garbage).Build(chunkId);
    }

    [Fact]
    public async Task ReadAllAsync_throws_the_chunk_error_found_while_iterating_and_completion_faults()
    {
        var ops = new FakeStreamOperations();
        var logger = new FakeLogger();
        await using var consumer = await Consumer.CreateAsync(ops, new ConsumerOptions("s1"), logger, Ct);
        var statuses = new ConcurrentQueue<StreamStatusChangedEventArgs>();
        consumer.StatusChanged += (_, e) => statuses.Enqueue(e);
        var good = Deliver(ops, new ChunkBuilder().Simple(M("a")).Build(0));
        var bad = Deliver(ops, ShortOfRecords(1));
        var seen = new List<ulong>();
        var ex = await Assert.ThrowsAsync<ChunkFormatException>(() => DrainAsync(consumer, seen));

        Assert.Equal([0ul, 1ul, 2ul], seen); // the bad chunk's records before its end, then the error
        Assert.Equal(1ul, ex.ChunkId);
        Assert.Equal("s1", ex.Stream);
        Assert.Contains("Chunk 1 of stream s1 announces 3 records but its entries hold 2", ex.Message, StringComparison.Ordinal);
        Assert.Same(ex, await Assert.ThrowsAsync<ChunkFormatException>(() => consumer.Completion.WaitAsync(TimeSpan.FromSeconds(10), Ct)));
        Assert.Equal(StreamStatus.Failed, consumer.Status);
        Assert.Contains(statuses, e => e.Status == StreamStatus.Failed && ReferenceEquals(e.Exception, ex));
        Assert.Throws<ObjectDisposedException>(() => good.Array);
        Assert.Throws<ObjectDisposedException>(() => bad.Array);
        Assert.DoesNotContain(logger.Collector.GetSnapshot(), e => e.Id.Id == 3005); // not a handler failure

        // Enumerating again reports the same failure.
        await Assert.ThrowsAsync<ChunkFormatException>(() => DrainAsync(consumer));
    }

    [Fact]
    public async Task ReadAllAsync_wraps_a_codec_failure_in_a_chunk_format_error()
    {
        var ops = new FakeStreamOperations();
        await using var consumer = await Consumer.CreateAsync(ops, new ConsumerOptions("s1"), null, Ct);
        Deliver(ops, NotGzip(7));
        var ex = await Assert.ThrowsAsync<ChunkFormatException>(() => DrainAsync(consumer));
        Assert.IsType<InvalidDataException>(ex.InnerException);
        Assert.Contains("Chunk 7 of stream s1", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ChunkFormatException>(() => consumer.Completion.WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task ReadAllAsync_reports_an_unknown_chunk_type_as_a_chunk_format_error()
    {
        var ops = new FakeStreamOperations();
        await using var consumer = await Consumer.CreateAsync(ops, new ConsumerOptions("s1"), null, Ct);
        Deliver(ops, new ChunkBuilder().Simple(M("a")).Build(3, type: 7));
        var ex = await Assert.ThrowsAsync<ChunkFormatException>(() => DrainAsync(consumer));
        Assert.Contains("unknown chunk type 7", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ChunkFormatException>(() => consumer.Completion.WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task Tracking_chunks_are_skipped_and_credited()
    {
        var ops = new FakeStreamOperations();
        await using var consumer = await Consumer.CreateAsync(ops, new ConsumerOptions("s1"), null, Ct);
        Deliver(ops, new ChunkBuilder().Raw(0x01, 0x02).Build(0, type: 1, entries: 1, records: 1));
        Deliver(ops, new ChunkBuilder().Simple(M("a")).Build(1));
        await foreach (var d in consumer.ReadAllAsync(Ct))
        {
            Assert.Equal(1ul, d.Offset);
            break;
        }

        Assert.Contains((consumer.SubscriptionId, (ushort)1), ops.Credits); // the tracking chunk's credit
    }

    [Fact]
    public async Task Handler_path_faults_completion_with_the_chunk_error_without_blaming_the_handler()
    {
        var ops = new FakeStreamOperations();
        var logger = new FakeLogger();
        var seen = new ConcurrentQueue<ulong>();
        await using var consumer = await Consumer.CreateAsync(ops, new ConsumerOptions("s1")
        {
            Handler = (d, _) =>
            {
                seen.Enqueue(d.Offset);
                return ValueTask.CompletedTask;
            },
        }, logger, Ct);
        Deliver(ops, new ChunkBuilder().Simple(M("a")).Build(0));
        Deliver(ops, NotGzip(1));
        var ex = await Assert.ThrowsAsync<ChunkFormatException>(() => consumer.Completion.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Equal(1ul, ex.ChunkId);
        Assert.Contains("Chunk 1 of stream s1", ex.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidDataException>(ex.InnerException);
        Assert.Equal([0ul, 1ul], seen); // the simple entry before the bad sub-batch
        Assert.Equal(StreamStatus.Failed, consumer.Status);
        Assert.DoesNotContain(logger.Collector.GetSnapshot(), e => e.Id.Id == 3005);
    }

    [Fact]
    public async Task Handler_path_reports_an_end_of_chunk_error()
    {
        var ops = new FakeStreamOperations();
        await using var consumer = await Consumer.CreateAsync(ops, new ConsumerOptions("s1") { Handler = (_, _) => ValueTask.CompletedTask }, null, Ct);
        Deliver(ops, ShortOfRecords(10));
        var ex = await Assert.ThrowsAsync<ChunkFormatException>(() => consumer.Completion.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Equal(10ul, ex.ChunkId);
    }

    [Fact]
    public async Task Handler_exceptions_still_fault_completion_as_they_are()
    {
        var ops = new FakeStreamOperations();
        var logger = new FakeLogger();
        await using var consumer = await Consumer.CreateAsync(ops, new ConsumerOptions("s1")
        {
            Handler = (d, _) => d.Offset == 1 ? throw new InvalidOperationException("poison") : ValueTask.CompletedTask,
        }, logger, Ct);
        Deliver(ops, new ChunkBuilder().Simple(M("a")).Simple(M("b")).Build(0));
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => consumer.Completion.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Equal("poison", ex.Message);
        Assert.Contains(logger.Collector.GetSnapshot(), e => e.Id.Id == 3005);
    }

    [Fact]
    public async Task Handler_throwing_a_chunk_format_exception_of_its_own_is_a_handler_failure()
    {
        var ops = new FakeStreamOperations();
        var logger = new FakeLogger();
        var own = new ChunkFormatException("the handler's own", 99);
        await using var consumer = await Consumer.CreateAsync(ops, new ConsumerOptions("s1") { Handler = (_, _) => throw own }, logger, Ct);
        Deliver(ops, new ChunkBuilder().Simple(M("a")).Build(0));
        Assert.Same(own, await Assert.ThrowsAsync<ChunkFormatException>(() => consumer.Completion.WaitAsync(TimeSpan.FromSeconds(10), Ct)));
        Assert.Contains(logger.Collector.GetSnapshot(), e => e.Id.Id == 3005);
    }

    [Fact]
    public async Task The_uncompressed_size_limit_reaches_the_reader()
    {
        var ops = new FakeStreamOperations();
        await using var consumer = await Consumer.CreateAsync(ops, new ConsumerOptions("s1") { MaxSubEntryUncompressedSize = 1024 }, null, Ct);
        Deliver(ops, new ChunkBuilder().SubBatch(1, new byte[600], new byte[600]).Build(5));
        var ex = await Assert.ThrowsAsync<ChunkFormatException>(() => DrainAsync(consumer));
        Assert.Contains("above the limit of 1024", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1023)]
    [InlineData(-1)]
    [InlineData(int.MaxValue)]
    public void MaxSubEntryUncompressedSize_is_validated(int value)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new ConsumerOptions("s") { MaxSubEntryUncompressedSize = value }.Validate());
        Assert.Equal(nameof(ConsumerOptions.MaxSubEntryUncompressedSize), ex.ParamName);
        Assert.Contains("ConsumerOptions.MaxSubEntryUncompressedSize", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MaxSubEntryUncompressedSize_defaults_to_the_broker_limit()
    {
        Assert.Equal(64 * 1024 * 1024, new ConsumerOptions("s").MaxSubEntryUncompressedSize);
        new ConsumerOptions("s") { MaxSubEntryUncompressedSize = 1024 }.Validate();
        new ConsumerOptions("s") { MaxSubEntryUncompressedSize = Array.MaxLength }.Validate();
        Assert.Equal(4096, new SuperStreamConsumerOptions("ss") { MaxSubEntryUncompressedSize = 4096 }.ConsumerOptionsFor("ss-0", (_, _) => ValueTask.CompletedTask).MaxSubEntryUncompressedSize);
    }
}
