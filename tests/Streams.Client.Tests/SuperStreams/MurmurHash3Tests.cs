using System.Text;
using Streams.Client.SuperStreams;

namespace Streams.Client.Tests.SuperStreams;

public sealed class MurmurHash3Tests
{
    // Vectors from ../shared/protocol.md §7 (they match the Java client's HashRoutingStrategyTest).
    [Theory]
    [InlineData("hello1", 0x10f9983au, 1)]
    [InlineData("hello2", 0xc071bd04u, 0)]
    [InlineData("hello3", null, 1)]
    [InlineData("hello4", null, 2)]
    [InlineData("hello5", null, 0)]
    [InlineData("hello6", null, 2)]
    [InlineData("hello7", null, 0)]
    [InlineData("hello8", null, 1)]
    [InlineData("hello9", null, 0)]
    [InlineData("hello10", null, 2)]
    public void Routing_hash_picks_the_same_partition_as_the_other_clients(string key, uint? hash, int partitionOf3)
    {
        var h = MurmurHash3.Hash32(key, MurmurHash3.StreamRoutingSeed);
        if (hash is { } expected)
        {
            Assert.Equal(expected, h);
        }

        Assert.Equal(partitionOf3, (int)(h % 3));
    }

    // Reference values of the x86_32 variant (seed 0 unless noted), as published with the algorithm's test suite.
    [Theory]
    [InlineData("", 0u, 0u)]
    [InlineData("", 1u, 0x514E28B7u)]
    [InlineData("", 0xffffffffu, 0x81F16F39u)]
    [InlineData("\0\0\0\0", 0u, 0x2362F9DEu)]
    [InlineData("aaaa", 0x9747b28cu, 0x5A97808Au)]
    [InlineData("aaa", 0x9747b28cu, 0x283E0130u)]
    [InlineData("aa", 0x9747b28cu, 0x5D211726u)]
    [InlineData("a", 0x9747b28cu, 0x7FA09EA6u)]
    [InlineData("Hello, world!", 0x9747b28cu, 0x24884CBAu)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x9747b28cu, 0x2FA826CDu)]
    public void Matches_reference_vectors(string input, uint seed, uint expected) =>
        Assert.Equal(expected, MurmurHash3.Hash32(Encoding.UTF8.GetBytes(input), seed));

    [Fact]
    public void String_and_span_overloads_agree_for_long_and_non_ascii_keys()
    {
        var random = new Random(42);
        for (var i = 0; i < 200; i++)
        {
            var chars = new char[random.Next(0, 400)];
            for (var j = 0; j < chars.Length; j++)
            {
                chars[j] = (char)random.Next(0x20, 0x2FF);
            }

            var text = new string(chars);
            Assert.Equal(MurmurHash3.Hash32(Encoding.UTF8.GetBytes(text), 7), MurmurHash3.Hash32(text, 7));
        }
    }
}
