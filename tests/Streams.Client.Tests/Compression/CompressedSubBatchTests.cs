using System.Buffers;
using Streams.Client.Compression;
using Streams.Client.Consumers;
using Streams.Client.Tests.Consumers;

namespace Streams.Client.Tests.Compression;

/// <summary>
/// Sub-entry batches compressed by the independent implementations, read through <see cref="ChunkReader"/>; randomized
/// round trips of our codecs; and hostile data: every failure is a <see cref="ChunkFormatException"/> (never another
/// exception type) and decoding allocates nothing beyond the announced size.
/// </summary>
public sealed class CompressedSubBatchTests
{
    private const ulong Id = 900;

    private static readonly CompressionCodecRegistry Codecs = NewRegistry();

    public static TheoryData<string> RecordVectors()
    {
        var data = new TheoryData<string>();
        foreach (var v in CodecVectors.Vectors.Where(v => v.Kind == "records"))
        {
            data.Add(v.File);
        }

        return data;
    }

    public static TheoryData<CompressionType> NewCodecs() => new(CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd);

    [Theory]
    [MemberData(nameof(RecordVectors))]
    public void Independent_sub_batch_reads_back_every_record_with_its_offset(string file)
    {
        var v = CodecVectors.Get(file);
        var bodies = CodecVectors.RecordBodies(v.Size);
        var chunk = Chunk(v.CodecInstance.Type, (ushort)bodies.Length, (uint)v.Plain.Length, v.Compressed);
        var read = ReadAll(chunk);
        Assert.Equal(bodies.Length, read.Count);
        for (int i = 0; i < bodies.Length; i++)
        {
            Assert.Equal(Id + (ulong)i, read[i].Offset);
            Assert.Equal(bodies[i], read[i].Body);
        }

        // From the middle: the records below the offset are skipped, the rest keep their offsets.
        var tail = ReadAll(chunk, min: Id + 250);
        Assert.Equal(Id + 250, tail[0].Offset);
        Assert.Equal(bodies[250], tail[0].Body);
    }

    [Theory]
    [MemberData(nameof(RecordVectors))]
    public void Consumer_without_the_codec_gets_a_typed_error_naming_the_package(string file)
    {
        var v = CodecVectors.Get(file);
        var chunk = Chunk(v.CodecInstance.Type, (ushort)v.Size, (uint)v.Plain.Length, v.Compressed);
        var ex = Assert.Throws<UnsupportedCompressionException>(() => ReadAll(chunk, codecs: new CompressionCodecRegistry()));
        Assert.Equal(v.CodecInstance.Type, ex.Compression);
        Assert.Contains(v.CodecInstance.Type.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.Contains("Streams.Client.Compression", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(NewCodecs))]
    public void Randomized_round_trips_through_a_chunk(CompressionType type)
    {
        var codec = Codecs.Get(type);
        var random = new Random(1000 + (int)type);
        for (int round = 0; round < 60; round++)
        {
            int count = random.Next(1, 300);
            var bodies = new byte[count][];
            for (int i = 0; i < count; i++)
            {
                bodies[i] = new byte[random.Next(0, round % 5 == 0 ? 20_000 : 300)];
                if (random.Next(2) == 0)
                {
                    random.NextBytes(bodies[i]);
                }
                else
                {
                    bodies[i].AsSpan().Fill((byte)random.Next(256));
                }
            }

            var plain = CodecVectors.Records(bodies);
            var compressed = new ArrayBufferWriter<byte>();
            codec.Compress(plain, compressed);
            var read = ReadAll(Chunk(type, (ushort)count, (uint)plain.Length, compressed.WrittenSpan.ToArray()));
            Assert.Equal(count, read.Count);
            for (int i = 0; i < count; i++)
            {
                Assert.Equal(bodies[i], read[i].Body);
            }
        }
    }

    [Theory]
    [InlineData(CompressionType.Snappy, new byte[] { 0xFF, 0x06, 0x00, 0x00, (byte)'s', (byte)'N', (byte)'a', (byte)'P', (byte)'p', (byte)'Y' })]
    [InlineData(CompressionType.Lz4, new byte[] { 0x04, 0x22, 0x4D, 0x18 })]
    [InlineData(CompressionType.Zstd, new byte[] { 0x28, 0xB5, 0x2F, 0xFD })]
    public void We_write_the_standard_container_format(CompressionType type, byte[] magic)
    {
        var compressed = new ArrayBufferWriter<byte>();
        Codecs.Get(type).Compress(CodecVectors.Payload("text", 100_000, 5), compressed);
        Assert.True(compressed.WrittenSpan.StartsWith(magic));
        Assert.True(compressed.WrittenCount < 100_000);
    }

    [Theory]
    [MemberData(nameof(RecordVectors))]
    public void Announced_size_off_by_one_either_way_is_a_chunk_format_error(string file)
    {
        var v = CodecVectors.Get(file);
        foreach (var announced in new[] { v.Plain.Length - 1, v.Plain.Length + 1 })
        {
            var chunk = Chunk(v.CodecInstance.Type, (ushort)v.Size, (uint)announced, v.Compressed);
            var ex = Assert.Throws<ChunkFormatException>(() => ReadAll(chunk));
            Assert.Contains(v.CodecInstance.Type.ToString(), ex.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(RecordVectors))]
    public void Truncated_and_corrupted_frames_fail_only_with_chunk_format_errors(string file)
    {
        var v = CodecVectors.Get(file);
        var random = new Random(v.File.Length);
        int failures = 0;
        for (int n = 0; n < 300; n++)
        {
            var data = v.Compressed.ToArray();
            if (n % 3 == 0)
            {
                data = data.AsSpan(0, random.Next(0, data.Length)).ToArray();
            }
            else
            {
                for (int flips = random.Next(1, 4); flips > 0; flips--)
                {
                    data[random.Next(data.Length)] ^= (byte)(1 << random.Next(8));
                }
            }

            var chunk = Chunk(v.CodecInstance.Type, (ushort)v.Size, (uint)v.Plain.Length, data);
            try
            {
                // A flip the format cannot see (no checksum over that byte) may still decode; the chunk CRC covers it on the wire.
                ReadAll(chunk);
            }
            catch (ChunkFormatException)
            {
                failures++;
            }
        }

        Assert.True(failures > 100, $"only {failures} of 300 damaged frames were rejected");
    }

    [Theory]
    [MemberData(nameof(NewCodecs))]
    public void A_frame_that_inflates_past_the_announced_size_stops_there_without_growing(CompressionType type)
    {
        // 8 MiB of zeros compresses to a few hundred bytes; announce 4 KiB: decoding must stop at 4 KiB and fail,
        // allocating about the announced size, not the frame's 8 MiB.
        var bomb = new ArrayBufferWriter<byte>();
        var zeros = new byte[8 * 1024 * 1024];
        Codecs.Get(type).Compress(zeros, bomb);
        var chunk = Chunk(type, 1, 4096, bomb.WrittenSpan.ToArray());
        ReadAll(chunk, expectError: true); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        ReadAll(chunk, expectError: true);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1024 * 1024, $"{type}: decoding a 4 KiB-announced bomb allocated {allocated:N0} bytes");
    }

    [Theory]
    [MemberData(nameof(NewCodecs))]
    public void An_announced_size_above_the_limit_is_refused_before_decoding(CompressionType type)
    {
        var chunk = Chunk(type, 1, 2 * 1024 * 1024, [1, 2, 3]);
        var ex = Assert.Throws<ChunkFormatException>(() => ReadAll(chunk, max: 1024 * 1024));
        Assert.Contains("MaxSubEntryUncompressedSize", ex.Message, StringComparison.Ordinal);
    }

    private static CompressionCodecRegistry NewRegistry()
    {
        var options = new StreamSystemOptions().AddAllCompressionCodecs();
        return options.CompressionCodecs;
    }

    private static byte[] Chunk(CompressionType type, ushort records, uint uncompressed, byte[] payload) =>
        new ChunkBuilder().SubBatchRaw((byte)(0x80 | ((byte)type << 4)), records, uncompressed, (uint)payload.Length, payload).Build(Id);

    private static List<(ulong Offset, byte[] Body)> ReadAll(byte[] chunk, ulong min = 0, CompressionCodecRegistry? codecs = null, int max = ChunkReader.DefaultMaxUncompressedSize, bool expectError = false)
    {
        var header = ChunkHeader.Read(chunk, "codecs");
        var list = new List<(ulong, byte[])>();
        try
        {
            using var reader = new ChunkReader(chunk, header, min, max, "codecs", codecs ?? Codecs);
            while (reader.TryRead(out var offset, out var message))
            {
                list.Add((offset, message.ToArray()));
            }
        }
        catch (ChunkFormatException) when (expectError)
        {
            return list;
        }

        Assert.False(expectError, "the chunk was expected to fail");
        return list;
    }
}
