using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Streams.Hosting.Internal;

/// <summary>
/// Hash routing for super streams, compatible with the Java and .NET stream clients: MurmurHash3 x86 32-bit over the
/// UTF-8 routing key with seed 104729, partition = hash mod partition count.
/// (A copy of the client's internal algorithm until the client exposes routing publicly.)
/// </summary>
internal static class SuperStreamRouting
{
    private const uint Seed = 104729;
    private const uint C1 = 0xcc9e2d51;
    private const uint C2 = 0x1b873593;

    public static int Partition(string routingKey, int partitionCount)
    {
        ArgumentNullException.ThrowIfNull(routingKey);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        return (int)(Hash32(Encoding.UTF8.GetBytes(routingKey), Seed) % (uint)partitionCount);
    }

    internal static uint Hash32(ReadOnlySpan<byte> data, uint seed)
    {
        var h = seed;
        var blocks = data.Length / 4;
        for (var i = 0; i < blocks; i++)
        {
            h ^= Scramble(BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i * 4, 4)));
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

    private static uint Scramble(uint k)
    {
        k *= C1;
        k = BitOperations.RotateLeft(k, 15);
        return k * C2;
    }
}
