using System.Buffers.Binary;
using System.Text;
using Streams.Client.Consumers;
using Streams.Client.Tests.Hostile;

namespace Streams.Client.Tests.Consumers;

/// <summary>The chunk CRC is zlib's CRC-32 (reflected 0xEDB88320, init and final XOR 0xFFFFFFFF) over the data bytes only.</summary>
public sealed class ChunkCrcTests
{
    [Theory]
    [InlineData("123456789", 0xCBF43926u)]
    [InlineData("a", 0xE8B7BE43u)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x414FA339u)]
    [InlineData("", 0u)]
    public void Known_zlib_check_values_validate(string data, uint crc)
    {
        var chunk = Chunk(Encoding.ASCII.GetBytes(data), crc);
        var header = ChunkHeader.Read(chunk);
        Assert.True(header.IsCrcValid(chunk));
        var wrong = Chunk(Encoding.ASCII.GetBytes(data), crc ^ 1);
        Assert.False(ChunkHeader.Read(wrong).IsCrcValid(wrong));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(64)]
    [InlineData(129)]
    [InlineData(4103)]
    [InlineData(65_537)]
    public void Random_data_validates_against_a_bitwise_reference_and_a_flipped_bit_does_not(int length)
    {
        var random = new Random(length);
        var data = new byte[length];
        random.NextBytes(data);
        var chunk = Chunk(data, ReferenceDecoder.Crc32(data));
        Assert.True(ChunkHeader.Read(chunk).IsCrcValid(chunk));
        chunk[ChunkHeader.Size + random.Next(length)] ^= (byte)(1 << random.Next(8));
        Assert.False(ChunkHeader.Read(chunk).IsCrcValid(chunk));
    }

    private static byte[] Chunk(byte[] data, uint crc)
    {
        var chunk = new byte[ChunkHeader.Size + data.Length];
        chunk[0] = ChunkHeader.MagicVersion;
        BinaryPrimitives.WriteUInt16BigEndian(chunk.AsSpan(2), 1);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(32), crc);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(36), (uint)data.Length);
        data.CopyTo(chunk.AsSpan(ChunkHeader.Size));
        return chunk;
    }
}
