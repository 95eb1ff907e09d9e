using System.Buffers;
using System.Buffers.Binary;
using Streams.Client.Consumers;

namespace Streams.Client.Tests.Consumers;

/// <summary>
/// Malformed chunks (issue 13): every byte from the network is untrusted, and the header is not covered by the CRC, so
/// each failure class must end in a <see cref="ChunkFormatException"/> naming the stream and chunk id — never another
/// exception, never silently lost or shifted records.
/// </summary>
public sealed class ChunkReaderValidationTests
{
    private const ulong Id = 4242;
    private const string Stream = "orders-7";

    private static byte[] M(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static readonly CompressionCodecRegistry Codecs = WithMisbehavingCodec();

    private static CompressionCodecRegistry WithMisbehavingCodec()
    {
        var codecs = new CompressionCodecRegistry();
        codecs.Add(new MisbehavingCodec());
        return codecs;
    }

    private static List<(ulong Offset, string Body)> ReadAll(byte[] chunk, ulong min = 0, int max = ChunkReader.DefaultMaxUncompressedSize)
    {
        var header = ChunkHeader.Read(chunk, Stream);
        var list = new List<(ulong, string)>();
        using var reader = new ChunkReader(chunk, header, min, max, Stream, Codecs);
        while (reader.TryRead(out var offset, out var message))
        {
            list.Add((offset, System.Text.Encoding.UTF8.GetString(message.Span)));
        }

        return list;
    }

    /// <summary>Reads <paramref name="chunk"/>, expecting a <see cref="ChunkFormatException"/> naming the chunk and stream.</summary>
    private static ChunkFormatException Fails(byte[] chunk, ulong min = 0, int max = ChunkReader.DefaultMaxUncompressedSize, params string[] fragments)
    {
        var ex = Assert.Throws<ChunkFormatException>(() => ReadAll(chunk, min, max));
        Assert.Equal(Id, ex.ChunkId);
        Assert.Equal(Stream, ex.Stream);
        Assert.Contains($"Chunk {Id} of stream {Stream}", ex.Message, StringComparison.Ordinal);
        foreach (var fragment in fragments)
        {
            Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
        }

        return ex;
    }

    private static byte[] U32(uint value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, value);
        return b;
    }

    [Fact]
    public void Byte_exact_valid_chunk_reads()
    {
        // Header (48 bytes) + one simple entry "hi" + one uncompressed sub-batch of "a", "bc".
        byte[] chunk =
        [
            0x50, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03, // magic, user, 2 entries, 3 records
            0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x00, // timestamp
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // epoch
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x92, // chunk id 4242
            0x00, 0x00, 0x00, 0x00, // crc (not checked by the reader)
            0x00, 0x00, 0x00, 0x1C, // data length 28
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // trailer, bloom, reserved
            0x00, 0x00, 0x00, 0x02, (byte)'h', (byte)'i', // simple entry
            0x80, 0x00, 0x02, 0x00, 0x00, 0x00, 0x0B, 0x00, 0x00, 0x00, 0x0B, // sub-batch: none, 2 records, 11/11 bytes
            0x00, 0x00, 0x00, 0x01, (byte)'a', 0x00, 0x00, 0x00, 0x02, (byte)'b', (byte)'c',
        ];
        Assert.Equal([(4242ul, "hi"), (4243ul, "a"), (4244ul, "bc")], ReadAll(chunk));

        // The same bytes with NumRecords 2 (byte 7) would drop "bc" silently before: now it is an error.
        chunk[7] = 0x02;
        Fails(chunk, fragments: "announces 2 records");
    }

    [Fact]
    public void Gzip_flag_on_data_that_is_not_gzip_is_a_chunk_format_error()
    {
        var records = ChunkBuilder.Records(M("hello"));
        var notGzip = M("this is not gzip data");
        var chunk = new ChunkBuilder().SubBatchRaw(0x90, 1, (uint)records.Length, (uint)notGzip.Length, notGzip).Build(Id);
        var ex = Fails(chunk, fragments: "Gzip");
        Assert.IsType<InvalidDataException>(ex.InnerException);
    }

    [Fact]
    public void Gzip_data_decompressing_to_more_than_announced_is_detected()
    {
        var records = ChunkBuilder.Records(M("0123456789"), M("abcdefghij"));
        var gz = ChunkBuilder.Gzip(records);

        // Announce only the first record's bytes and count: the gzip stream holds more.
        var chunk = new ChunkBuilder().SubBatchRaw(0x90, 1, 14, (uint)gz.Length, gz).Build(Id);
        var ex = Fails(chunk, fragments: "Gzip");
        Assert.IsType<InvalidDataException>(ex.InnerException);
    }

    [Fact]
    public void Gzip_data_decompressing_to_less_than_announced_is_detected()
    {
        var records = ChunkBuilder.Records(M("0123456789"));
        var gz = ChunkBuilder.Gzip(records);
        var chunk = new ChunkBuilder().SubBatchRaw(0x90, 1, (uint)records.Length + 10, (uint)gz.Length, gz).Build(Id);
        Fails(chunk, fragments: $"decompressed to {records.Length} bytes instead of the declared {records.Length + 10}");
    }

    [Theory]
    [InlineData((byte)0x80)]
    [InlineData((byte)0x90)]
    public void Uncompressed_length_0xFFFFFFFF_is_a_chunk_format_error_not_an_overflow(byte first)
    {
        var records = ChunkBuilder.Records(M("x"));
        var chunk = new ChunkBuilder().SubBatchRaw(first, 1, 0xFFFFFFFF, (uint)records.Length, records).Build(Id);
        Fails(chunk, fragments: "4294967295");
    }

    [Theory]
    [InlineData((byte)0x80)]
    [InlineData((byte)0x90)]
    public void Data_length_0xFFFFFFFF_is_a_chunk_format_error_not_an_overflow(byte first)
    {
        var records = ChunkBuilder.Records(M("x"));
        var chunk = new ChunkBuilder().SubBatchRaw(first, 1, (uint)records.Length, 0xFFFFFFFF, records).Build(Id);
        Fails(chunk, fragments: "4294967295");
    }

    [Fact]
    public void Simple_entry_length_0x7FFFFFFF_is_a_chunk_format_error()
    {
        var chunk = new ChunkBuilder().Raw(U32(0x7FFFFFFF)).Raw(M("abc")).Build(Id, entries: 1, records: 1);
        Fails(chunk, fragments: "truncated");
    }

    [Fact]
    public void Announcing_2_GiB_uncompressed_is_refused_before_allocating()
    {
        var gz = ChunkBuilder.Gzip(ChunkBuilder.Records(M("tiny")));
        var chunk = new ChunkBuilder().SubBatchRaw(0x90, 1, 0x8000_0000, (uint)gz.Length, gz).Build(Id);
        ReadAll(new ChunkBuilder().Simple(M("warm")).Build(Id)); // JIT outside the measurement
        Assert.Throws<ChunkFormatException>(() => ReadAll(chunk));

        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Fails(chunk, fragments: ["2147483648", "limit of 67108864", "MaxSubEntryUncompressedSize"]);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 64 * 1024, $"{allocated} B allocated");
        Assert.Null(ex.InnerException);
    }

    [Fact]
    public void The_uncompressed_size_limit_is_configurable_and_inclusive()
    {
        var records = ChunkBuilder.Records(M(new string('q', 2000)));
        var chunk = new ChunkBuilder().SubBatch(1, M(new string('q', 2000))).Build(Id);
        Assert.Single(ReadAll(chunk, max: records.Length));
        Fails(chunk, max: records.Length - 1, fragments: $"above the limit of {records.Length - 1}");
        Fails(chunk, max: 1024, fragments: "above the limit of 1024");
    }

    [Fact]
    public void Record_count_times_4_above_the_uncompressed_size_is_refused()
    {
        var records = ChunkBuilder.Records(M("a"), M("b"));
        var gz = ChunkBuilder.Gzip(records);
        var chunk = new ChunkBuilder().SubBatchRaw(0x90, 1000, (uint)records.Length, (uint)gz.Length, gz).Build(Id);
        Fails(chunk, fragments: "1000 records in 10 uncompressed bytes");
    }

    [Fact]
    public void Uncompressed_sub_batch_declaring_another_uncompressed_size_is_refused()
    {
        var records = ChunkBuilder.Records(M("a"), M("b"));
        var chunk = new ChunkBuilder().SubBatchRaw(0x80, 2, (uint)records.Length + 4, (uint)records.Length, records).Build(Id);
        Fails(chunk, fragments: "carrying 10");
    }

    [Fact]
    public void NumEntries_lower_than_the_data_holds_fails_before_the_end_is_reported()
    {
        var chunk = new ChunkBuilder().Simple(M("a")).Simple(M("b")).Simple(M("c")).Build(Id, entries: 2, records: 2);
        var header = ChunkHeader.Read(chunk, Stream);
        using var reader = new ChunkReader(chunk, header, 0, ChunkReader.DefaultMaxUncompressedSize, Stream);
        Assert.True(reader.TryRead(out ulong o1, out _));
        Assert.True(reader.TryRead(out ulong o2, out _));
        Assert.Equal([Id, Id + 1], [o1, o2]);
        var ex = Assert.Throws<ChunkFormatException>(() => reader.TryRead(out _, out _));
        Assert.Contains("5 bytes after its 2 announced entries", ex.Message, StringComparison.Ordinal);
        Assert.Equal(Id, ex.ChunkId);
    }

    [Fact]
    public void NumEntries_lower_with_the_records_of_all_entries_is_still_caught()
    {
        var chunk = new ChunkBuilder().Simple(M("a")).Simple(M("b")).SubBatch(0, M("c"), M("d")).Build(Id, entries: 2);
        Fails(chunk, fragments: "after its 2 announced entries");
    }

    [Fact]
    public void NumEntries_higher_than_the_data_holds_is_refused()
    {
        var chunk = new ChunkBuilder().Simple(M("a")).Simple(M("b")).Build(Id, entries: 3);
        Fails(chunk, fragments: "announces 3 entries but its 10 data bytes hold only 2");
    }

    [Fact]
    public void Zero_entries_with_data_is_refused()
    {
        var chunk = new ChunkBuilder().Simple(M("a")).Build(Id, entries: 0, records: 0);
        Fails(chunk, fragments: "5 bytes after its 0 announced entries");
    }

    [Fact]
    public void NumRecords_lower_fails_before_yielding_an_offset_past_the_chunk()
    {
        var chunk = new ChunkBuilder().Simple(M("a")).Simple(M("b")).Simple(M("c")).Build(Id, records: 2);
        var header = ChunkHeader.Read(chunk, Stream);
        using var reader = new ChunkReader(chunk, header, 0, ChunkReader.DefaultMaxUncompressedSize, Stream);
        Assert.True(reader.TryRead(out _, out _));
        Assert.True(reader.TryRead(out _, out _));
        var ex = Assert.Throws<ChunkFormatException>(() => reader.TryRead(out _, out _));
        Assert.Contains("announces 2 records but its entries hold at least 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NumRecords_lower_than_a_sub_batch_holds_is_refused()
    {
        var chunk = new ChunkBuilder().Simple(M("a")).SubBatch(1, M("b"), M("c"), M("d")).Build(Id, records: 3);
        Fails(chunk, fragments: "announces 3 records but its entries hold at least 4");
    }

    [Fact]
    public void NumRecords_higher_is_refused_at_the_end()
    {
        var chunk = new ChunkBuilder().Simple(M("a")).SubBatch(0, M("b"), M("c")).Build(Id, records: 4);
        Fails(chunk, fragments: "announces 4 records but its entries hold 3");
        Fails(new ChunkBuilder().Build(Id, records: 1), fragments: "announces 1 records but its entries hold 0");
    }

    [Fact]
    public void NumRecords_lower_or_higher_is_refused_even_when_every_record_is_skipped()
    {
        var chunk = new ChunkBuilder().Simple(M("a")).Simple(M("b")).Build(Id, records: 3);
        Fails(chunk, min: Id + 100, fragments: "announces 3 records but its entries hold 2");
        chunk = new ChunkBuilder().Simple(M("a")).Simple(M("b")).Build(Id, records: 1);
        Fails(chunk, min: Id + 100, fragments: "announces 1 records");
    }

    [Theory]
    [InlineData(new byte[] { 0x00 })]
    [InlineData(new byte[] { 0x00, 0x00, 0x00 })]
    public void Trailing_bytes_shorter_than_an_entry_are_refused(byte[] trailing)
    {
        var chunk = new ChunkBuilder().Simple(M("a")).Raw(trailing).Build(Id);
        Fails(chunk, fragments: $"{trailing.Length} bytes after its 1 announced entries");
    }

    [Fact]
    public void Trailing_bytes_after_a_sub_batch_are_refused()
    {
        var chunk = new ChunkBuilder().SubBatch(1, M("a"), M("b")).Raw(0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x7A).Build(Id);
        Fails(chunk, fragments: "9 bytes after its 1 announced entries");
    }

    [Fact]
    public void Entry_header_cut_by_the_end_of_the_data_is_refused()
    {
        var chunk = new ChunkBuilder().Simple(M("a")).Raw(0x00, 0x00).Build(Id, entries: 2, records: 2);
        Fails(chunk, fragments: "truncated: entry 1");
        chunk = new ChunkBuilder().Simple(M("a")).Raw(0x80, 0x00, 0x01, 0x00).Build(Id, entries: 2, records: 2);
        Fails(chunk, fragments: "sub-batch entry 1 needs 11 header bytes");
    }

    [Theory]
    [InlineData((byte)3)]
    [InlineData((byte)7)]
    [InlineData((byte)0xFF)]
    public void Unknown_chunk_type_is_refused(byte type)
    {
        var chunk = new ChunkBuilder().Simple(M("a")).Build(Id, type: type);
        Fails(chunk, fragments: $"unknown chunk type {type}");
    }

    [Theory]
    [InlineData((byte)1)]
    [InlineData((byte)2)]
    public void Tracking_chunks_are_skipped_without_parsing_their_data(byte type)
    {
        // Tracking chunks have their own entry format: they are skipped, whatever they hold.
        var chunk = new ChunkBuilder().Raw(0xFF, 0xFF, 0xFF, 0xFF, 0x01).Build(Id, type: type, entries: 9, records: 1);
        Assert.Empty(ReadAll(chunk));
    }

    [Fact]
    public void ChunkId_plus_NumRecords_past_the_largest_offset_is_refused()
    {
        var chunk = new ChunkBuilder().Simple(M("a")).Simple(M("b")).Build(ulong.MaxValue - 1);
        var ex = Assert.Throws<ChunkFormatException>(() => ReadAll(chunk));
        Assert.Contains($"Chunk {ulong.MaxValue - 1} of stream {Stream}", ex.Message, StringComparison.Ordinal);
        Assert.Single(ReadAll(new ChunkBuilder().Simple(M("a")).Build(ulong.MaxValue - 1)));
    }

    [Theory]
    [InlineData((byte)0x80)]
    [InlineData((byte)0x90)]
    public void Sub_batch_count_lower_than_its_content_is_refused(byte first)
    {
        var records = ChunkBuilder.Records(M("aa"), M("bb"), M("cc"));
        var payload = first == 0x90 ? ChunkBuilder.Gzip(records) : records;
        var chunk = new ChunkBuilder().SubBatchRaw(first, 2, (uint)records.Length, (uint)payload.Length, payload).Build(Id);
        Fails(chunk, fragments: ["sub-batch (entry 0)", "declares 2 records but they end 6 bytes before the end"]);
    }

    [Theory]
    [InlineData((byte)0x80)]
    [InlineData((byte)0x90)]
    public void Sub_batch_count_higher_than_its_content_is_refused(byte first)
    {
        var records = ChunkBuilder.Records(M("aa"), M("bb"), M("cc"));
        var payload = first == 0x90 ? ChunkBuilder.Gzip(records) : records;
        var chunk = new ChunkBuilder().SubBatchRaw(first, 4, (uint)records.Length, (uint)payload.Length, payload).Build(Id);
        Fails(chunk, fragments: "declares 4 records but its 18 bytes hold only 3");
    }

    [Fact]
    public void Sub_batch_count_error_is_raised_before_its_last_declared_record_is_yielded()
    {
        var records = ChunkBuilder.Records(M("aa"), M("bb"), M("cc"));
        var chunk = new ChunkBuilder().Simple(M("s")).SubBatchRaw(0x80, 2, (uint)records.Length, (uint)records.Length, records).Build(Id);
        var header = ChunkHeader.Read(chunk, Stream);
        using var reader = new ChunkReader(chunk, header, 0, ChunkReader.DefaultMaxUncompressedSize, Stream);
        Assert.True(reader.TryRead(out ulong first, out _));
        Assert.True(reader.TryRead(out ulong second, out var aa));
        Assert.Equal([Id, Id + 1], [first, second]);
        Assert.Equal("aa", System.Text.Encoding.UTF8.GetString(aa.Span));
        var ex = Assert.Throws<ChunkFormatException>(() => reader.TryRead(out _, out _));
        Assert.Contains("sub-batch (entry 1) that declares 2 records", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sub_batch_record_size_past_its_data_is_refused()
    {
        var records = ChunkBuilder.Records(M("a"), M("bcd"));
        records[8] = 0x09; // second record's size: 9 instead of 3
        var chunk = new ChunkBuilder().SubBatchRaw(0x80, 2, (uint)records.Length, (uint)records.Length, records).Build(Id);
        Fails(chunk, fragments: "record 1 of 2 announces 9 bytes but only 3 remain");
    }

    [Theory]
    [InlineData((byte)0x80)]
    [InlineData((byte)0x90)]
    public void Skipped_sub_batch_with_a_wrong_count_is_still_refused(byte first)
    {
        // The sub-batch lies wholly below the minimum offset (first chunk after a resubscription): skipping it on its
        // declared count would shift every later offset, so it is decompressed and walked anyway.
        var records = ChunkBuilder.Records(M("a"), M("b"), M("c"));
        var payload = first == 0x90 ? ChunkBuilder.Gzip(records) : records;
        var chunk = new ChunkBuilder()
            .SubBatchRaw(first, 2, (uint)records.Length, (uint)payload.Length, payload, countedRecords: 3)
            .Simple(M("d"))
            .Build(Id);
        Fails(chunk, min: Id + 3, fragments: "declares 2 records");
    }

    [Fact]
    public void Skipped_sub_batch_that_is_not_gzip_is_still_refused()
    {
        var garbage = M("garbage, not gzip");
        var chunk = new ChunkBuilder().SubBatchRaw(0x90, 2, 10, (uint)garbage.Length, garbage).Simple(M("z")).Build(Id);
        var ex = Fails(chunk, min: Id + 2);
        Assert.IsType<InvalidDataException>(ex.InnerException);
    }

    [Fact]
    public void Valid_skipped_sub_batches_keep_offsets_right()
    {
        var chunk = new ChunkBuilder().SubBatch(1, M("a"), M("b")).SubBatch(0, M("c")).Simple(M("d")).Build(Id);
        Assert.Equal([(Id + 3, "d")], ReadAll(chunk, min: Id + 3));
        Assert.Equal([(Id + 1, "b"), (Id + 2, "c"), (Id + 3, "d")], ReadAll(chunk, min: Id + 1));
    }

    [Theory]
    [InlineData((byte)'T')] // throws
    [InlineData((byte)'S')] // writes one byte too few
    [InlineData((byte)'B')] // claims more than the destination
    public void Pluggable_codec_failures_are_wrapped(byte behaviour)
    {
        var records = ChunkBuilder.Records(M("abc"));
        byte[] payload = [behaviour, .. records];
        var chunk = new ChunkBuilder().SubBatchRaw(0x80 | (7 << 4), 1, (uint)records.Length, (uint)payload.Length, payload).Build(Id);
        var ex = Fails(chunk);
        if (behaviour == 'T')
        {
            Assert.IsType<NotSupportedException>(ex.InnerException);
            Assert.Contains("codec exploded", ex.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains("instead of the declared 7", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Errors_are_raised_again_not_swallowed_by_a_second_call()
    {
        var chunk = new ChunkBuilder().Simple(M("a")).Build(Id, records: 2);
        var header = ChunkHeader.Read(chunk, Stream);
        using var reader = new ChunkReader(chunk, header, 0, ChunkReader.DefaultMaxUncompressedSize, Stream);
        Assert.True(reader.TryRead(out _, out _));
        Assert.Throws<ChunkFormatException>(() => reader.TryRead(out _, out _));
        Assert.Throws<ChunkFormatException>(() => reader.TryRead(out _, out _));
    }

    [Fact]
    public void Header_errors_name_the_stream()
    {
        var chunk = new ChunkBuilder().Simple(M("abc")).Build(Id);
        var ex = Assert.Throws<ChunkFormatException>(() => ChunkHeader.Read(chunk.AsSpan(0, chunk.Length - 1), Stream));
        Assert.Equal(Stream, ex.Stream);
        Assert.Equal(Id, ex.ChunkId);
        Assert.Contains($"Chunk {Id} of stream {Stream}", ex.Message, StringComparison.Ordinal);
        chunk[0] = 0x51;
        ex = Assert.Throws<ChunkFormatException>(() => ChunkHeader.Read(chunk, Stream));
        Assert.Contains($"of stream {Stream}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("0x51", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Codec 7 for these tests: the first payload byte chooses how it misbehaves; the rest is copied.</summary>
    private sealed class MisbehavingCodec : ICompressionCodec
    {
        public CompressionType Type => (CompressionType)7;

        public void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination) => throw new NotSupportedException();

        public int Decompress(ReadOnlyMemory<byte> source, Span<byte> destination)
        {
            var span = source.Span;
            switch (span[0])
            {
                case (byte)'T':
                    throw new NotSupportedException("codec exploded");
                case (byte)'S':
                    span[1..^1].CopyTo(destination);
                    return span.Length - 2;
                default:
                    span[1..].CopyTo(destination);
                    return destination.Length + 100;
            }
        }
    }
}
