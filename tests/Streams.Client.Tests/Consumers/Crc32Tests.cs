using System.Text;
using Streams.Client.Consumers;

namespace Streams.Client.Tests.Consumers;

public sealed class Crc32Tests
{
    [Fact]
    public void Check_value_of_123456789() => Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));

    [Fact]
    public void Empty_input_is_zero() => Assert.Equal(0u, Crc32.Compute(ReadOnlySpan<byte>.Empty));

    [Fact]
    public void Known_zlib_vectors()
    {
        Assert.Equal(0xE8B7BE43u, Crc32.Compute("a"u8));
        Assert.Equal(0x414FA339u, Crc32.Compute(Encoding.ASCII.GetBytes("The quick brown fox jumps over the lazy dog")));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(79)]
    [InlineData(80)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(129)]
    [InlineData(191)]
    [InlineData(256)]
    [InlineData(1000)]
    [InlineData(4103)]
    [InlineData(65_537)]
    public void Matches_bitwise_reference_on_random_data(int length)
    {
        var random = new Random(length);
        var data = new byte[length];
        random.NextBytes(data);
        Assert.Equal(Reference(data), Crc32.Compute(data));
        // Every unaligned start too.
        for (int start = 1; start < Math.Min(length, 9); start++)
        {
            Assert.Equal(Reference(data.AsSpan(start)), Crc32.Compute(data.AsSpan(start)));
        }
    }

    [Fact]
    public void Update_is_incremental()
    {
        var data = new byte[4097];
        new Random(7).NextBytes(data);
        uint crc = 0xFFFFFFFFu;
        crc = Crc32.Update(crc, data.AsSpan(0, 1000));
        crc = Crc32.Update(crc, data.AsSpan(1000));
        Assert.Equal(Crc32.Compute(data), ~crc);
    }

    [Fact]
    public void Folded_and_table_paths_agree_on_random_lengths_and_running_values()
    {
        // On x86 with PCLMULQDQ, Update folds the bulk; UpdateTable is the portable path.
        var random = new Random(42);
        for (var n = 0; n < 500; n++)
        {
            var data = new byte[random.Next(0, 3000)];
            random.NextBytes(data);
            var seed = (uint)random.Next() | ((uint)random.Next(2) << 31);
            Assert.Equal(Crc32.UpdateTable(seed, data), Crc32.Update(seed, data));
        }
    }

    private static uint Reference(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}
