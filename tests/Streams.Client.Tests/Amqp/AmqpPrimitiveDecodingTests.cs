using System.Text;
using static Streams.Client.Tests.Amqp.AmqpTestHelpers;

namespace Streams.Client.Tests.Amqp;

/// <summary>Every width variant and constructor of protocol.md §8 decodes, including ones this codec never writes.</summary>
public sealed class AmqpPrimitiveDecodingTests
{
    public static TheoryData<string, object?> Variants => new()
    {
        { "40", null },
        { "41", true },
        { "42", false },
        { "56 01", true },
        { "56 00", false },
        { "50 80", (byte)0x80 },
        { "51 80", (sbyte)-128 },
        { "60 ff ff", ushort.MaxValue },
        { "61 80 00", short.MinValue },
        { "70 00 00 00 05", 5u },
        { "70 00 00 00 00", 0u },
        { "52 05", 5u },
        { "52 00", 0u },
        { "43", 0u },
        { "80 00 00 00 00 00 00 00 05", 5ul },
        { "53 05", 5ul },
        { "44", 0ul },
        { "71 00 00 00 05", 5 },
        { "71 ff ff ff ff", -1 },
        { "54 ff", -1 },
        { "81 00 00 00 00 00 00 00 05", 5L },
        { "55 fb", -5L },
        { "72 bf 80 00 00", -1.0f },
        { "82 40 00 00 00 00 00 00 00", 2.0 },
        { "73 00 00 00 e9", new Rune('é') },
        { "83 00 00 01 8c 00 00 00 00", DateTimeOffset.FromUnixTimeMilliseconds(0x018c00000000) },
        { "98 ff ee dd cc bb aa 99 88 77 66 55 44 33 22 11 00", new Guid("ffeeddcc-bbaa-9988-7766-554433221100") },
        { "74 00 00 00 01", new AmqpDecimal32(1) },
        { "84 00 00 00 00 00 00 00 01", new AmqpDecimal64(1) },
        { "94 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 02", new AmqpDecimal128(1, 2) },
        { "a0 02 01 02", new byte[] { 1, 2 } },
        { "b0 00 00 00 02 01 02", new byte[] { 1, 2 } },
        { "b0 00 00 00 00", Array.Empty<byte>() },
        { "a1 02 68 69", "hi" },
        { "b1 00 00 00 02 68 69", "hi" },
        { "a3 02 68 69", new AmqpSymbol("hi") },
        { "b3 00 00 00 02 68 69", new AmqpSymbol("hi") },
        { "45", new List<object?>() },
        { "c0 01 00", new List<object?>() },
        { "d0 00 00 00 04 00 00 00 00", new List<object?>() },
        { "d0 00 00 00 07 00 00 00 02 41 52 01", new List<object?> { true, 1u } },
        { "c1 01 00", new Dictionary<object, object?>() },
        { "d1 00 00 00 04 00 00 00 00", new Dictionary<object, object?>() },
        { "d1 00 00 00 09 00 00 00 02 a3 01 61 53 02", new Dictionary<object, object?> { [new AmqpSymbol("a")] = 2ul } },
        { "e0 05 03 52 01 02 03", new AmqpArray([1u, 2u, 3u]) },
        { "e0 02 02 43", new AmqpArray([0u, 0u]) },
        { "e0 02 02 41", new AmqpArray([true, true]) },
        { "e0 02 03 40", new AmqpArray([null, null, null]) },
        { "e0 02 02 45", new AmqpArray([new List<object?>(), new List<object?>()]) },
        { "e0 06 02 a3 01 61 01 62", new AmqpArray([new AmqpSymbol("a"), new AmqpSymbol("b")]) },
        { "e0 07 02 c0 02 01 40 01 00", new AmqpArray([new List<object?> { null }, new List<object?>()]) },
        { "e0 06 01 e0 03 01 54 07", new AmqpArray([new AmqpArray([7])]) },
        { "f0 00 00 00 07 00 00 00 02 55 01 02", new AmqpArray([1L, 2L]) },
        { "e0 07 01 00 a3 01 64 50 09", new AmqpArray([(byte)9], new AmqpSymbol("d")) },
        { "00 53 01 00 53 02 40", new AmqpDescribed(1ul, new AmqpDescribed(2ul, null)) },
        { "00 80 00 00 00 00 00 00 00 77 54 01", new AmqpDescribed(0x77ul, 1) },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Decodes_every_width_variant(string hex, object? expected)
    {
        var decoded = DecodeValue(Hex(hex));
        Assert.True(DeepEquals(expected, decoded), $"{hex}: decoded {Describe(decoded)} ({decoded?.GetType()})");
    }

    [Fact]
    public void Out_of_range_timestamps_are_clamped()
    {
        Assert.Equal(DateTimeOffset.MaxValue, DecodeValue(Hex("83 7f ff ff ff ff ff ff ff")));
        Assert.Equal(DateTimeOffset.MinValue, DecodeValue(Hex("83 80 00 00 00 00 00 00 00")));
    }
}
