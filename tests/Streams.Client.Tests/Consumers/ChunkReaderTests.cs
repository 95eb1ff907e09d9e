using System.Buffers;
using Streams.Client.Consumers;

namespace Streams.Client.Tests.Consumers;

public sealed class ChunkReaderTests
{
    private static byte[] M(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static List<(ulong Offset, string Body)> ReadAll(byte[] chunk, ulong min = 0, CompressionCodecRegistry? codecs = null)
    {
        var header = ChunkHeader.Read(chunk);
        var list = new List<(ulong, string)>();
        using var reader = new ChunkReader(chunk, header, min, codecs: codecs);
        while (reader.TryRead(out var offset, out var message))
        {
            list.Add((offset, System.Text.Encoding.UTF8.GetString(message.Span)));
        }

        return list;
    }

    [Fact]
    public void Header_fields_are_read_big_endian()
    {
        var chunk = new ChunkBuilder().Simple(M("a")).Simple(M("bc")).Build(chunkId: 0x0102030405060708, timestamp: 1_700_000_000_123);
        var h = ChunkHeader.Read(chunk);
        Assert.Equal(0, h.ChunkType);
        Assert.Equal(2, h.NumEntries);
        Assert.Equal(2u, h.NumRecords);
        Assert.Equal(1_700_000_000_123, h.Timestamp);
        Assert.Equal(1ul, h.Epoch);
        Assert.Equal(0x0102030405060708ul, h.ChunkId);
        Assert.Equal((uint)(4 + 1 + 4 + 2), h.DataLength);
        Assert.True(h.IsCrcValid(chunk));
    }

    [Fact]
    public void Simple_entries_get_consecutive_offsets()
    {
        var chunk = new ChunkBuilder().Simple(M("one")).Simple(M("two")).Simple(M("")).Build(100);
        Assert.Equal([(100ul, "one"), (101ul, "two"), (102ul, "")], ReadAll(chunk));
    }

    [Fact]
    public void Records_below_the_minimum_offset_are_skipped()
    {
        var chunk = new ChunkBuilder().Simple(M("a")).SubBatch(0, M("b"), M("c"), M("d")).Simple(M("e")).Build(10);
        Assert.Equal([(13ul, "d"), (14ul, "e")], ReadAll(chunk, min: 13));
        Assert.Equal([(14ul, "e")], ReadAll(chunk, min: 14));
        Assert.Empty(ReadAll(chunk, min: 15));
    }

    [Fact]
    public void Uncompressed_sub_batches_are_split()
    {
        var chunk = new ChunkBuilder().Simple(M("x")).SubBatch(0, M("s1"), M("s2")).Simple(M("y")).Build(0);
        Assert.Equal([(0ul, "x"), (1ul, "s1"), (2ul, "s2"), (3ul, "y")], ReadAll(chunk));
    }

    [Fact]
    public void Gzip_sub_batches_are_decompressed()
    {
        var big = new string('z', 5000);
        var chunk = new ChunkBuilder().SubBatch(1, M("g1"), M(big), M("g3")).SubBatch(1, M("h1")).Build(7);
        Assert.Equal([(7ul, "g1"), (8ul, big), (9ul, "g3"), (10ul, "h1")], ReadAll(chunk));
    }

    [Fact]
    public void Unknown_codec_throws_typed_exception()
    {
        var chunk = new ChunkBuilder().SubBatch(0, M("a")).Build(0);
        chunk[48] = 0x80 | (6 << 4); // codec 6: never registered
        var ex = Assert.Throws<UnsupportedCompressionException>(() => ReadAll(chunk));
        Assert.Equal((CompressionType)6, ex.Compression);
    }

    [Fact]
    public void Registered_codec_is_used()
    {
        var codecs = new CompressionCodecRegistry();
        codecs.Add(new XorCodec());
        var raw = new ChunkBuilder().SubBatch(0, M("q1"), M("q2")).Build(0);
        // Turn the uncompressed sub-batch into a "codec 5" one whose payload is xor-ed.
        raw[48] = 0x80 | (5 << 4);
        for (int i = 48 + 11; i < raw.Length; i++)
        {
            raw[i] ^= 0x5A;
        }

        Assert.Equal([(0ul, "q1"), (1ul, "q2")], ReadAll(raw, codecs: codecs));
        // Registered on that registry only: the built-in one does not know codec 5.
        Assert.Throws<UnsupportedCompressionException>(() => ReadAll(raw));
    }

    [Fact]
    public void Non_user_chunks_yield_nothing()
    {
        var chunk = new ChunkBuilder().Simple(M("tracking")).Build(3, type: 1);
        Assert.Empty(ReadAll(chunk));
    }

    [Fact]
    public void Bad_magic_and_truncation_throw()
    {
        var chunk = new ChunkBuilder().Simple(M("abc")).Build(0);
        var bad = (byte[])chunk.Clone();
        bad[0] = 0x51;
        Assert.Throws<ChunkFormatException>(() => ChunkHeader.Read(bad));
        Assert.Throws<ChunkFormatException>(() => ChunkHeader.Read(chunk.AsSpan(0, chunk.Length - 1)));
        Assert.Throws<ChunkFormatException>(() => ChunkHeader.Read(chunk.AsSpan(0, 20)));

        // Entry length pointing past the data.
        var lying = (byte[])chunk.Clone();
        lying[48 + 3] = 200;
        Assert.Throws<ChunkFormatException>(() => ReadAll(lying));
    }

    [Fact]
    public void Crc_mismatch_is_detected()
    {
        var chunk = new ChunkBuilder().Simple(M("abc")).Build(0, crc: 12345);
        Assert.False(ChunkHeader.Read(chunk).IsCrcValid(chunk));
    }

    [Fact]
    public void Reading_an_uncompressed_chunk_does_not_allocate()
    {
        var builder = new ChunkBuilder();
        for (int i = 0; i < 100; i++)
        {
            builder.Simple(new byte[100]);
        }

        builder.SubBatch(0, new byte[10], new byte[10]);
        var chunk = builder.Build(0);
        ReadOnlyMemory<byte> memory = chunk;
        Count(memory); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        int n = Count(memory);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(102, n);
        Assert.Equal(0, allocated);

        static int Count(ReadOnlyMemory<byte> memory)
        {
            var header = ChunkHeader.Read(memory.Span);
            if (!header.IsCrcValid(memory.Span))
            {
                return -1;
            }

            int n = 0;
            using var reader = new ChunkReader(memory, header);
            while (reader.TryRead(out _, out var message))
            {
                n += message.Length > 0 ? 1 : 0;
            }

            return n;
        }
    }

    private sealed class XorCodec : ICompressionCodec
    {
        public CompressionType Type => (CompressionType)5;

        public void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
        {
            var span = destination.GetSpan(source.Length);
            for (int i = 0; i < source.Length; i++)
            {
                span[i] = (byte)(source[i] ^ 0x5A);
            }

            destination.Advance(source.Length);
        }

        public int Decompress(ReadOnlyMemory<byte> source, Span<byte> destination)
        {
            var s = source.Span;
            for (int i = 0; i < s.Length; i++)
            {
                destination[i] = (byte)(s[i] ^ 0x5A);
            }

            return s.Length;
        }
    }
}
