using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;

namespace Streams.Client.Tests.Producers;

/// <summary>
/// <see cref="ProducerOptions.SubEntrySize"/> above 1 on an in-memory connection: the frames are byte-exact, a batch's
/// confirm or error (under its last message's id) completes each of its messages, batches never outgrow a frame, and
/// the options are validated.
/// </summary>
public sealed class SubEntryBatchingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<Producer> Create(FakeStreamOperations ops, Action<ProducerOptions> configure, params ICompressionCodec[] codecs)
    {
        var options = new ProducerOptions("s1");
        configure(options);
        var registry = new CompressionCodecRegistry();
        foreach (var codec in codecs)
        {
            registry.Add(codec);
        }

        return Producer.CreateAsync(ops, null, options, registry, null, Ct);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(5, Ct);
        }
    }

    private static int Messages(byte[][] frames) => frames.Sum(f => Entries(f).Sum(e => e.Records));

    /// <summary>(id, header byte, records, uncompressed, data) of every entry of a v1 frame with sub-batch entries.</summary>
    private static List<(ulong Id, byte Type, int Records, int Uncompressed, byte[] Data)> Entries(byte[] frame)
    {
        var entries = new List<(ulong, byte, int, int, byte[])>();
        var span = frame.AsSpan();
        int count = (int)BinaryPrimitives.ReadUInt32BigEndian(span[9..]);
        int p = 13;
        for (int i = 0; i < count; i++)
        {
            ulong id = BinaryPrimitives.ReadUInt64BigEndian(span[p..]);
            byte type = span[p + 8];
            Assert.True((type & 0x80) != 0, "a sub-batch entry");
            int records = BinaryPrimitives.ReadUInt16BigEndian(span[(p + 9)..]);
            int uncompressed = (int)BinaryPrimitives.ReadUInt32BigEndian(span[(p + 11)..]);
            int length = (int)BinaryPrimitives.ReadUInt32BigEndian(span[(p + 15)..]);
            entries.Add((id, type, records, uncompressed, span.Slice(p + 19, length).ToArray()));
            p += 19 + length;
        }

        Assert.Equal(frame.Length, p);
        return entries;
    }

    [Fact]
    public async Task A_full_batch_is_one_byte_exact_sub_entry_under_its_last_message_id()
    {
        var ops = new FakeStreamOperations();
        await using var producer = await Create(ops, o => o.SubEntrySize = 3);
        var batch = producer.SendBatchAsync([new byte[] { 1 }, new byte[] { 2, 3 }, new byte[] { 4, 5, 6 }], Ct);
        await WaitUntil(() => ops.SnapshotFrames().Length == 1);
        byte[] expected =
        [
            0, 0, 0, 9 + 19 + 18, // size
            0, 2, 0, 1, // Publish v1
            3, // publisher id
            0, 0, 0, 1, // one entry
            0, 0, 0, 0, 0, 0, 0, 2, // publishing id: the last message's
            0x80, // sub-batch, compression none
            0, 3, // records
            0, 0, 0, 18, // uncompressed length
            0, 0, 0, 18, // data length
            0, 0, 0, 1, 1,
            0, 0, 0, 2, 2, 3,
            0, 0, 0, 3, 4, 5, 6,
        ];
        Assert.Equal(expected, ops.SnapshotFrames()[0]);
        Assert.Equal(3ul, producer.NextPublishingId);

        Assert.False(batch.IsCompleted);
        ops.Confirm(2);
        await batch;
        Assert.Equal(0, producer.UnconfirmedCount);
    }

    [Fact]
    public async Task A_batch_compressed_by_the_codec_is_byte_exact()
    {
        var ops = new FakeStreamOperations { AutoConfirm = true };
        await using var producer = await Create(ops, o => (o.SubEntrySize, o.Compression) = (2, XorCodec.Code), new XorCodec());
        _ = producer.SendBatchAsync([new byte[] { 0x10 }, new byte[] { 0x20, 0x30 }], Ct);
        await WaitUntil(() => ops.SnapshotFrames().Length == 1);
        byte[] expected =
        [
            0, 0, 0, 9 + 19 + 11,
            0, 2, 0, 1,
            3,
            0, 0, 0, 1,
            0, 0, 0, 0, 0, 0, 0, 1,
            0x80 | (5 << 4), // sub-batch, compression code 5
            0, 2,
            0, 0, 0, 11, // uncompressed: the records
            0, 0, 0, 11, // the codec's output
            0xFF, 0xFF, 0xFF, 0xFE, 0xEF,
            0xFF, 0xFF, 0xFF, 0xFD, 0xDF, 0xCF,
        ];
        Assert.Equal(expected, ops.SnapshotFrames()[0]);
    }

    [Fact]
    public async Task Every_message_completes_with_its_own_id_when_its_batch_is_confirmed()
    {
        var ops = new FakeStreamOperations { WriteGate = new TaskCompletionSource() };
        await using var producer = await Create(ops, o => (o.SubEntrySize, o.BatchSize) = (4, 8));
        var confirmed = new ConcurrentQueue<Confirmation>();
        for (int i = 0; i < 23; i++)
        {
            await producer.Send(new byte[] { (byte)i }, confirmed.Enqueue, Ct);
        }

        ops.WriteGate.SetResult();
        await WaitUntil(() => Messages(ops.SnapshotFrames()) == 23);
        var frames = ops.SnapshotFrames();
        var entries = frames.SelectMany(Entries).ToList();

        // Batches of at most 4 messages, at most 2 per frame (BatchSize 8), in order, each under its last message's id;
        // the messages are all there, in order.
        Assert.All(entries, e => Assert.InRange(e.Records, 1, 4));
        Assert.All(frames, f => Assert.InRange(Entries(f).Count, 1, 2));
        Assert.Contains(entries, e => e.Records == 4);
        ulong next = 0;
        var bodies = new List<byte>();
        foreach (var entry in entries)
        {
            next += (ulong)entry.Records;
            Assert.Equal(next - 1, entry.Id);
            for (int p = 0; p < entry.Data.Length; p += 5)
            {
                Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(entry.Data.AsSpan(p)));
                bodies.Add(entry.Data[p + 4]);
            }
        }

        Assert.Equal(Enumerable.Range(0, 23).Select(i => (byte)i), bodies);

        foreach (var frame in frames)
        {
            ops.ConfirmFrame(frame);
        }

        await WaitUntil(() => confirmed.Count == 23);
        Assert.Equal(Enumerable.Range(0, 23).Select(i => (ulong)i), confirmed.Select(c => c.PublishingId));
        Assert.All(confirmed, c => Assert.Equal(ConfirmationStatus.Confirmed, c.Status));
        Assert.Equal(0, producer.UnconfirmedCount);
    }

    [Fact]
    public async Task Every_message_of_a_rejected_batch_fails_with_the_brokers_code()
    {
        var ops = new FakeStreamOperations();
        await using var producer = await Create(ops, o => o.SubEntrySize = 3);
        var outcomes = new ConcurrentQueue<Confirmation>();
        for (int i = 0; i < 6; i++)
        {
            await producer.Send(new byte[] { (byte)i }, outcomes.Enqueue, Ct);
        }

        await WaitUntil(() => Messages(ops.SnapshotFrames()) == 6);
        var ids = ops.SnapshotFrames().SelectMany(Entries).Select(e => e.Id).ToList();
        ops.Publisher!.OnError(ids[0], ResponseCode.PreconditionFailed);
        foreach (var id in ids.Skip(1))
        {
            ops.Confirm(id);
        }

        await WaitUntil(() => outcomes.Count == 6);
        var rejected = outcomes.Where(c => c.Status == ConfirmationStatus.Rejected).ToList();
        Assert.Equal(Enumerable.Range(0, (int)ids[0] + 1).Select(i => (ulong)i), rejected.Select(c => c.PublishingId));
        Assert.All(rejected, c => Assert.Equal(ResponseCode.PreconditionFailed, c.Code));
        Assert.Equal(6 - rejected.Count, outcomes.Count(c => c.IsConfirmed));

        var batch = producer.SendBatchAsync([new byte[] { 7 }, new byte[] { 8 }, new byte[] { 9 }], Ct);
        await WaitUntil(() => Messages(ops.SnapshotFrames()) == 9);
        ops.Publisher!.OnError(8, ResponseCode.PreconditionFailed);
        var ex = await Assert.ThrowsAsync<PublishException>(() => batch);
        Assert.Equal(ResponseCode.PreconditionFailed, ex.Code);
    }

    [Fact]
    public async Task A_batch_closes_early_rather_than_outgrow_the_frame_max()
    {
        // Frame max 1,024: 992 bytes for the records of a batch; 300-byte messages take 304, so 3 fit, not 4.
        var ops = new FakeStreamOperations { FrameMax = 1024, AutoConfirm = true };
        await using var producer = await Create(ops, o => o.SubEntrySize = 10);
        var bodies = Enumerable.Range(0, 7).Select(i => (ReadOnlyMemory<byte>)Enumerable.Repeat((byte)i, 300).ToArray()).ToArray();
        _ = producer.SendBatchAsync(bodies, Ct);
        await WaitUntil(() => Messages(ops.SnapshotFrames()) == 7);
        var frames = ops.SnapshotFrames();
        Assert.All(frames, f => Assert.True(f.Length <= 1024, $"frame of {f.Length} bytes"));
        Assert.Equal(new[] { 3, 3, 1 }, frames.SelectMany(Entries).Select(e => e.Records));

        var tooLarge = await Assert.ThrowsAsync<FrameTooLargeException>(() => producer.SendAsync(new byte[1024 - 13 - 19 - 4 + 1], Ct));
        Assert.Equal(1024, tooLarge.FrameMax);
        await producer.SendAsync(new byte[1024 - 13 - 19 - 4], Ct);
        Assert.Equal(1024, ops.SnapshotFrames()[^1].Length);
    }

    [Fact]
    public async Task A_batch_the_codec_grows_past_the_frame_max_goes_uncompressed()
    {
        var ops = new FakeStreamOperations { FrameMax = 1024, AutoConfirm = true };
        await using var producer = await Create(ops, o => (o.SubEntrySize, o.Compression) = (10, ExpandingCodec.Code), new ExpandingCodec());
        var bodies = Enumerable.Range(0, 2).Select(i => (ReadOnlyMemory<byte>)Enumerable.Repeat((byte)i, 400).ToArray()).ToArray();
        _ = producer.SendBatchAsync(bodies, Ct);
        await WaitUntil(() => Messages(ops.SnapshotFrames()) == 2);
        var entry = Assert.Single(ops.SnapshotFrames().SelectMany(Entries));
        Assert.Equal(0x80, entry.Type);
        Assert.Equal(808, entry.Uncompressed);
        Assert.Equal(808, entry.Data.Length);
    }

    [Fact]
    public async Task A_caller_made_batch_goes_after_the_messages_of_the_open_batch()
    {
        var ops = new FakeStreamOperations { WriteGate = new TaskCompletionSource(), AutoConfirm = true };
        await using var producer = await Create(ops, o => o.SubEntrySize = 10);
        var sends = new List<Task> { producer.SendAsync(new byte[] { 0 }, Ct), producer.SendAsync(new byte[] { 1 }, Ct), producer.SendAsync(new byte[] { 2 }, Ct) };
        sends.Add(producer.SendSubEntryAsync([new byte[] { 3 }, new byte[] { 4 }], CompressionType.None, Ct));
        sends.Add(producer.SendAsync(new byte[] { 5 }, Ct));
        ops.WriteGate.SetResult();
        await Task.WhenAll(sends);

        var bodies = new List<byte>();
        foreach (var entry in ops.SnapshotFrames().SelectMany(Entries))
        {
            for (int p = 0; p < entry.Data.Length; p += 5)
            {
                bodies.Add(entry.Data[p + 4]);
            }
        }

        Assert.Equal(new byte[] { 0, 1, 2, 3, 4, 5 }, bodies);
    }

    [Fact]
    public async Task Options_are_validated_and_an_unregistered_codec_fails_creation_naming_it()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProducerOptions("s") { SubEntrySize = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProducerOptions("s") { SubEntrySize = 65_536 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProducerOptions("s") { SubEntrySize = 2, Compression = (CompressionType)8 }.Validate());
        var alone = Assert.Throws<ArgumentException>(() => new ProducerOptions("s") { Compression = CompressionType.Gzip }.Validate());
        Assert.Contains("SubEntrySize", alone.Message, StringComparison.Ordinal);
        var filter = Assert.Throws<ArgumentException>(() => new ProducerOptions("s") { SubEntrySize = 2, FilterValue = _ => "x" }.Validate());
        Assert.Contains("FilterValue", filter.Message, StringComparison.Ordinal);

        var ops = new FakeStreamOperations();
        var ex = await Assert.ThrowsAsync<UnsupportedCompressionException>(() => Create(ops, o => (o.SubEntrySize, o.Compression) = (10, CompressionType.Zstd)));
        Assert.Equal(CompressionType.Zstd, ex.Compression);
        Assert.Contains("Zstd", ex.Message, StringComparison.Ordinal);
        Assert.Contains(CompressionCodecRegistry.CompressionPackage, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(ops.Calls, c => c.StartsWith("declare", StringComparison.Ordinal));
    }

    /// <summary>A deterministic test codec (code 5): every byte inverted.</summary>
    private sealed class XorCodec : ICompressionCodec
    {
        public const CompressionType Code = (CompressionType)5;

        public CompressionType Type => Code;

        public void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
        {
            var span = destination.GetSpan(source.Length);
            for (int i = 0; i < source.Length; i++)
            {
                span[i] = (byte)~source[i];
            }

            destination.Advance(source.Length);
        }

        public int Decompress(ReadOnlyMemory<byte> source, Span<byte> destination) => throw new NotSupportedException();
    }

    /// <summary>A test codec (code 6) whose output is twice its input.</summary>
    private sealed class ExpandingCodec : ICompressionCodec
    {
        public const CompressionType Code = (CompressionType)6;

        public CompressionType Type => Code;

        public void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
        {
            destination.Write(source);
            destination.Write(source);
        }

        public int Decompress(ReadOnlyMemory<byte> source, Span<byte> destination) => throw new NotSupportedException();
    }
}
