using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Streams.Client.SuperStreams;

/// <summary>MurmurHash3, x86 32-bit variant (Austin Appleby's public-domain algorithm).</summary>
internal static class MurmurHash3
{
    /// <summary>The seed the Java and .NET stream clients use for super-stream hash routing.</summary>
    public const uint StreamRoutingSeed = 104729;

    private const uint C1 = 0xcc9e2d51;
    private const uint C2 = 0x1b873593;

    public static uint Hash32(ReadOnlySpan<byte> data, uint seed)
    {
        var h = seed;
        var blocks = data.Length / 4;
        for (var i = 0; i < blocks; i++)
        {
            var k = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i * 4, 4));
            h ^= Scramble(k);
            h = (BitOperations.RotateLeft(h, 13) * 5) + 0xe6546b64;
        }

        var tail = data[(blocks * 4)..];
        uint last = 0;
        switch (tail.Length)
        {
            case 3:
                last ^= (uint)tail[2] << 16;
                goto case 2;
            case 2:
                last ^= (uint)tail[1] << 8;
                goto case 1;
            case 1:
                last ^= tail[0];
                h ^= Scramble(last);
                break;
        }

        h ^= (uint)data.Length;
        h ^= h >> 16;
        h *= 0x85ebca6b;
        h ^= h >> 13;
        h *= 0xc2b2ae35;
        h ^= h >> 16;
        return h;
    }

    /// <summary>Hashes the UTF-8 bytes of <paramref name="text"/> without allocating for short keys.</summary>
    public static uint Hash32(string text, uint seed)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = null;
        var buffer = max <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var length = Encoding.UTF8.GetBytes(text, buffer);
            return Hash32(buffer[..length], seed);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static uint Scramble(uint k) => BitOperations.RotateLeft(k * C1, 15) * C2;
}
