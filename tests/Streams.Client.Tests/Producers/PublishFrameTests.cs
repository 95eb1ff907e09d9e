using System.IO.Compression;
using Streams.Client.Consumers;
using Streams.Client.Producers;

namespace Streams.Client.Tests.Producers;

public sealed class PublishFrameTests
{
    [Fact]
    public void V1_frame_is_byte_exact()
    {
        using var frame = new PublishFrame(64);
        frame.Reset(publisherId: 7, version: 1, capacity: 64);
        frame.AppendV1(1, [0xAA, 0xBB]);
        frame.AppendV1(0x0102030405060708, []);
        byte[] expected =
        [
            0, 0, 0, 35, // size = 39 - 4
            0, 2, 0, 1, // key, version
            7, // publisher id
            0, 0, 0, 2, // count
            0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0xAA, 0xBB,
            1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0,
        ];
        Assert.Equal(expected, frame.Seal().ToArray());
        Assert.Equal(PublishFrame.HeaderSize + (2 * PublishFrame.V1MessageOverhead) + 2, frame.Length);
    }

    [Fact]
    public void V1_span_append_matches_copy_append()
    {
        using var a = new PublishFrame(64);
        using var b = new PublishFrame(64);
        a.Reset(1, 1, 64);
        b.Reset(1, 1, 64);
        a.AppendV1(5, [1, 2, 3]);
        var span = b.AppendV1(5, 3);
        span[0] = 1;
        span[1] = 2;
        span[2] = 3;
        Assert.Equal(a.Seal().ToArray(), b.Seal().ToArray());
    }

    [Fact]
    public void V2_frame_is_byte_exact()
    {
        using var frame = new PublishFrame(64);
        frame.Reset(publisherId: 3, version: 2, capacity: 64);
        frame.AppendV2(9, null, [0x01]);
        frame.AppendV2(10, "fr", [0x02, 0x03]);
        byte[] expected =
        [
            0, 0, 0, 9 + 15 + 18, // size
            0, 2, 0, 2,
            3,
            0, 0, 0, 2,
            0, 0, 0, 0, 0, 0, 0, 9, 0xFF, 0xFF, 0, 0, 0, 1, 0x01,
            0, 0, 0, 0, 0, 0, 0, 10, 0, 2, (byte)'f', (byte)'r', 0, 0, 0, 2, 0x02, 0x03,
        ];
        Assert.Equal(expected, frame.Seal().ToArray());
        Assert.Equal(15, PublishFrame.V2MessageOverhead(-1) + 1);
        Assert.Equal(18, PublishFrame.V2MessageOverhead(2) + 2);
    }

    [Fact]
    public void Uncompressed_sub_entry_is_byte_exact()
    {
        using var frame = new PublishFrame(16);
        using var scratch = new PooledBufferWriter();
        frame.Reset(2, 1, 16);
        int size = frame.AppendSubEntry(42, [new byte[] { 0xA }, new byte[] { 0xB, 0xC }], new CompressionCodecRegistry().Get(CompressionType.None), scratch);
        byte[] expected =
        [
            0, 0, 0, 9 + 19 + 11,
            0, 2, 0, 1,
            2,
            0, 0, 0, 1,
            0, 0, 0, 0, 0, 0, 0, 42,
            0x80, 0, 2, 0, 0, 0, 11, 0, 0, 0, 11,
            0, 0, 0, 1, 0xA, 0, 0, 0, 2, 0xB, 0xC,
        ];
        Assert.Equal(19 + 11, size);
        Assert.Equal(expected, frame.Seal().ToArray());
    }

    [Fact]
    public void Gzip_sub_entry_round_trips_through_the_chunk_reader()
    {
        using var frame = new PublishFrame(16);
        using var scratch = new PooledBufferWriter();
        frame.Reset(2, 1, 16);
        var messages = Enumerable.Range(0, 50).Select(i => (ReadOnlyMemory<byte>)System.Text.Encoding.UTF8.GetBytes($"message {i} {new string('x', i)}")).ToArray();
        frame.AppendSubEntry(1, messages, new CompressionCodecRegistry().Get(CompressionType.Gzip), scratch);
        var bytes = frame.Seal().ToArray();

        Assert.Equal(0x80 | 0x10, bytes[21]);
        Assert.Equal(50, (bytes[22] << 8) | bytes[23]);
        int uncompressed = (bytes[24] << 24) | (bytes[25] << 16) | (bytes[26] << 8) | bytes[27];
        int dataLength = (bytes[28] << 24) | (bytes[29] << 16) | (bytes[30] << 8) | bytes[31];
        Assert.Equal(messages.Sum(m => 4 + m.Length), uncompressed);
        Assert.Equal(bytes.Length - 32, dataLength);

        // Decompress with the BCL independently.
        using var gz = new GZipStream(new MemoryStream(bytes, 32, dataLength), CompressionMode.Decompress);
        var output = new MemoryStream();
        gz.CopyTo(output);
        Assert.Equal(uncompressed, output.Length);

        // And as the entry of a chunk, through the chunk reader.
        var entry = bytes.AsSpan(21).ToArray();
        var chunk = new byte[48 + entry.Length];
        chunk[0] = 0x50;
        chunk[3] = 1; // one entry
        chunk[7] = 50; // records
        chunk[39] = (byte)entry.Length;
        chunk[38] = (byte)(entry.Length >> 8);
        entry.CopyTo(chunk, 48);
        var header = ChunkHeader.Read(chunk);
        using var reader = new ChunkReader(chunk, header);
        int n = 0;
        while (reader.TryRead(out var offset, out var message))
        {
            Assert.Equal((ulong)n, offset);
            Assert.Equal(messages[n].ToArray(), message.ToArray());
            n++;
        }

        Assert.Equal(50, n);
    }

    [Fact]
    public void Sub_entry_grows_the_buffer_when_needed()
    {
        using var frame = new PublishFrame(16);
        using var scratch = new PooledBufferWriter(8);
        frame.Reset(0, 1, 16);
        var big = new byte[100_000];
        new Random(1).NextBytes(big);
        frame.AppendSubEntry(1, [big], new CompressionCodecRegistry().Get(CompressionType.None), scratch);
        var bytes = frame.Seal();
        Assert.Equal(13 + 19 + 4 + 100_000, bytes.Length);
        Assert.True(bytes.Span[^100_000..].SequenceEqual(big));
    }

    [Fact]
    public void Sub_entry_rejects_empty_batches_and_unknown_codecs()
    {
        using var frame = new PublishFrame(16);
        using var scratch = new PooledBufferWriter();
        frame.Reset(0, 1, 16);
        Assert.Throws<ArgumentOutOfRangeException>(() => frame.AppendSubEntry(1, [], new CompressionCodecRegistry().Get(CompressionType.None), scratch));
        var ex = Assert.Throws<UnsupportedCompressionException>(() => new CompressionCodecRegistry().Get(CompressionType.Zstd));
        Assert.Contains("Streams.Client.Compression", ex.Message, StringComparison.Ordinal);
    }
}
