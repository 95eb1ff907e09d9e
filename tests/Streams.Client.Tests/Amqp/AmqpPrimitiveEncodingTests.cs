using System.Text;
using Streams.Client.Amqp;
using static Streams.Client.Tests.Amqp.AmqpTestHelpers;

namespace Streams.Client.Tests.Amqp;

/// <summary>Byte-exact vectors for every primitive, written by hand from AMQP 1.0 part 1 (types).</summary>
public sealed class AmqpPrimitiveEncodingTests
{
    private static readonly Guid SampleGuid = new("00112233-4455-6677-8899-aabbccddeeff");

    public static TheoryData<string, object?, string> Vectors => new()
    {
        { "null", null, "40" },
        { "true", true, "41" },
        { "false", false, "42" },
        { "ubyte", (byte)5, "50 05" },
        { "ubyte max", byte.MaxValue, "50 ff" },
        { "byte", (sbyte)-2, "51 fe" },
        { "ushort", (ushort)0x1234, "60 12 34" },
        { "short", (short)-2, "61 ff fe" },
        { "uint0", 0u, "43" },
        { "smalluint", 5u, "52 05" },
        { "smalluint max", 255u, "52 ff" },
        { "uint", 256u, "70 00 00 01 00" },
        { "uint max", uint.MaxValue, "70 ff ff ff ff" },
        { "ulong0", 0ul, "44" },
        { "smallulong", 7ul, "53 07" },
        { "smallulong max", 255ul, "53 ff" },
        { "ulong", 256ul, "80 00 00 00 00 00 00 01 00" },
        { "ulong max", ulong.MaxValue, "80 ff ff ff ff ff ff ff ff" },
        { "smallint 0", 0, "54 00" },
        { "smallint min", -128, "54 80" },
        { "smallint max", 127, "54 7f" },
        { "int 128", 128, "71 00 00 00 80" },
        { "int -129", -129, "71 ff ff ff 7f" },
        { "int min", int.MinValue, "71 80 00 00 00" },
        { "smalllong", 5L, "55 05" },
        { "smalllong -1", -1L, "55 ff" },
        { "long 128", 128L, "81 00 00 00 00 00 00 00 80" },
        { "long min", long.MinValue, "81 80 00 00 00 00 00 00 00" },
        { "float", 1.0f, "72 3f 80 00 00" },
        { "double", 1.0, "82 3f f0 00 00 00 00 00 00" },
        { "double -2.5", -2.5, "82 c0 04 00 00 00 00 00 00" },
        { "char rune", new Rune('A'), "73 00 00 00 41" },
        { "char astral", new Rune(0x1F600), "73 00 01 f6 00" },
        { "char from .NET char", 'z', "73 00 00 00 7a" },
        { "timestamp", DateTimeOffset.FromUnixTimeMilliseconds(1), "83 00 00 00 00 00 00 00 01" },
        { "timestamp negative", DateTimeOffset.FromUnixTimeMilliseconds(-1), "83 ff ff ff ff ff ff ff ff" },
        { "uuid", SampleGuid, "98 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff" },
        { "decimal32", new AmqpDecimal32(0x01020304), "74 01 02 03 04" },
        { "decimal64", new AmqpDecimal64(0x0102030405060708), "84 01 02 03 04 05 06 07 08" },
        { "decimal128", new AmqpDecimal128(0x0102030405060708, 0x090a0b0c0d0e0f10), "94 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10" },
        { "vbin8", new byte[] { 1, 2, 3 }, "a0 03 01 02 03" },
        { "vbin8 empty", Array.Empty<byte>(), "a0 00" },
        { "vbin8 from memory", new ReadOnlyMemory<byte>([9]), "a0 01 09" },
        { "str8", "abc", "a1 03 61 62 63" },
        { "str8 empty", string.Empty, "a1 00" },
        { "str8 utf8", "é€", "a1 05 c3 a9 e2 82 ac" },
        { "sym8", new AmqpSymbol("abc"), "a3 03 61 62 63" },
        { "list0", new List<object?>(), "45" },
        { "list8", new List<object?> { true, 5u }, "c0 04 02 41 52 05" },
        { "list8 nested", new List<object?> { new List<object?>(), null }, "c0 03 02 45 40" },
        { "map8", new Dictionary<string, object?> { ["a"] = 1 }, "c1 06 02 a1 01 61 54 01" },
        { "map8 empty", new Dictionary<object, object?>(), "c1 01 00" },
        { "map8 symbol keys", new Dictionary<object, object?> { [new AmqpSymbol("k")] = null }, "c1 05 02 a3 01 6b 40" },
        { "array8 int", new AmqpArray([1, 2]), "e0 0a 02 71 00 00 00 01 00 00 00 02" },
        { "array8 uint", new AmqpArray([1u]), "e0 06 01 70 00 00 00 01" },
        { "array8 long", new AmqpArray([-1L]), "e0 0a 01 81 ff ff ff ff ff ff ff ff" },
        { "array8 ulong", new AmqpArray([2ul]), "e0 0a 01 80 00 00 00 00 00 00 00 02" },
        { "array8 str", new AmqpArray(["a", "bc"]), "e0 07 02 a1 01 61 02 62 63" },
        { "array8 sym", new AmqpArray([new AmqpSymbol("x")]), "e0 04 01 a3 01 78" },
        { "array8 bool", new AmqpArray([true, false]), "e0 04 02 56 01 00" },
        { "array8 ubyte", new AmqpArray([(byte)1, (byte)2]), "e0 04 02 50 01 02" },
        { "array8 double", new AmqpArray([1.0]), "e0 0a 01 82 3f f0 00 00 00 00 00 00" },
        { "array8 empty", new AmqpArray([]), "e0 02 00 40" },
        { "array8 described", new AmqpArray([7], 5ul), "e0 09 01 00 53 05 71 00 00 00 07" },
        { "array8 of lists", new AmqpArray([new List<object?> { 1 }]), "e0 0c 01 d0 00 00 00 06 00 00 00 01 54 01" },
        { "described", new AmqpDescribed(0x70ul, "x"), "00 53 70 a1 01 78" },
        { "described symbol", new AmqpDescribed(new AmqpSymbol("d"), null), "00 a3 01 64 40" },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Encodes_value_with_the_smallest_constructor(string name, object? value, string hex)
    {
        Assert.NotNull(name);
        var expected = Hex(hex);
        Assert.Equal(expected.Length, AmqpWriter.SizeOf(value));
        Assert.Equal(ToHex(expected), ToHex(EncodeValue(value)));
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Decodes_vector_back_to_the_value(string name, object? value, string hex)
    {
        var decoded = DecodeValue(Hex(hex));
        Assert.True(DeepEquals(value, decoded), $"{name}: decoded {Describe(decoded)}");
    }

    [Fact]
    public void Long_variable_values_use_32_bit_widths()
    {
        var bytes = new byte[256];
        Assert.Equal("b0000001000000", ToHex(EncodeValue(bytes).AsSpan(0, 7)));
        Assert.Equal(261, AmqpWriter.SizeOf(bytes));

        var text = new string('a', 256);
        var encodedText = EncodeValue(text);
        Assert.Equal("b100000100", ToHex(encodedText.AsSpan(0, 5)));
        Assert.Equal(261, encodedText.Length);

        // 85 chars of 3-byte UTF-8 = 255 bytes: still str8; 86 -> str32.
        Assert.Equal("a1ff", ToHex(EncodeValue(new string('€', 85)).AsSpan(0, 2)));
        Assert.Equal("b100000102", ToHex(EncodeValue(new string('€', 86)).AsSpan(0, 5)));

        var symbol = new AmqpSymbol(new string('s', 300));
        Assert.Equal("b30000012c", ToHex(EncodeValue(symbol).AsSpan(0, 5)));
    }

    [Fact]
    public void Str8_boundary_255_bytes_stays_str8()
    {
        var text = new string('a', 255);
        var encoded = EncodeValue(text);
        Assert.Equal(257, encoded.Length);
        Assert.Equal("a1ff", ToHex(encoded.AsSpan(0, 2)));
    }

    [Fact]
    public void Large_list_uses_list32()
    {
        var list = new List<object?>();
        for (var i = 0; i < 300; i++)
        {
            list.Add(null);
        }

        var encoded = EncodeValue(list);
        Assert.Equal("d0000001300000012c", ToHex(encoded.AsSpan(0, 9)));
        Assert.Equal(309, encoded.Length);
    }

    [Fact]
    public void List_whose_payload_reaches_255_bytes_uses_list32()
    {
        // payload 254 -> list8 size byte 255; payload 255 -> list32.
        var fits = new List<object?> { new byte[252] }; // a0 fc + 252 = 254
        Assert.Equal("c0ff01", ToHex(EncodeValue(fits).AsSpan(0, 3)));
        var spills = new List<object?> { new byte[253] };
        Assert.Equal("d00000010300000001", ToHex(EncodeValue(spills).AsSpan(0, 9)));
        Assert.Equal(9 + 255, EncodeValue(spills).Length);
    }

    [Fact]
    public void Large_map_uses_map32()
    {
        var map = new Dictionary<object, object?>();
        for (var i = 0; i < 200; i++)
        {
            map[i] = null; // 54 xx / 71 ... + 40
        }

        var encoded = EncodeValue(map);
        Assert.Equal(0xd1, encoded[0]);
        Assert.Equal("00000190", ToHex(encoded.AsSpan(5, 4)));
        Assert.True(DeepEquals(map, DecodeValue(encoded)));
    }

    [Fact]
    public void Wide_array_uses_array32_and_wide_element_constructor()
    {
        var array = new AmqpArray(["a", new string('b', 300)]);
        var encoded = EncodeValue(array);
        Assert.Equal(0xf0, encoded[0]);
        Assert.Equal("00000002b1", ToHex(encoded.AsSpan(5, 5)));
        Assert.Equal("0000000161", ToHex(encoded.AsSpan(10, 5)));
        Assert.True(DeepEquals(array, DecodeValue(encoded)));
    }

    [Fact]
    public void Nested_compound_values_round_trip()
    {
        var value = new List<object?>
        {
            new Dictionary<object, object?> { ["k"] = new AmqpArray([new AmqpArray([1, 2]), new AmqpArray([3])]) },
            new AmqpArray([new Dictionary<object, object?> { [1L] = "v" }]),
            new AmqpDescribed(new AmqpSymbol("com.example:x"), new List<object?> { 1.5f }),
            new AmqpArray([new Rune('a'), new Rune(0x10FFFF)]),
            new AmqpArray([Guid.Empty, SampleGuid]),
            new AmqpArray([DateTimeOffset.FromUnixTimeMilliseconds(42)]),
            new AmqpArray([new byte[] { 1 }, new byte[300]]),
        };
        Assert.True(DeepEquals(value, DecodeValue(EncodeValue(value))));
    }

    [Theory]
    [InlineData("uint", 0u, 1)]
    [InlineData("uint", 255u, 2)]
    [InlineData("uint", 256u, 5)]
    public void Size_helpers_match_the_writer(string kind, uint value, int size)
    {
        Assert.Equal("uint", kind);
        Assert.Equal(size, AmqpWriter.SizeOfUInt(value));
        Assert.Equal(size, EncodeValue(value).Length);
    }

    [Fact]
    public void Unsupported_values_are_rejected_with_ArgumentException()
    {
        Assert.Throws<ArgumentException>(() => AmqpWriter.SizeOf(new object()));
        Assert.Throws<ArgumentException>(() => AmqpWriter.SizeOf(new AmqpSymbol("é")));
        Assert.Throws<ArgumentException>(() => AmqpWriter.SizeOf('\ud800'));
        Assert.Throws<ArgumentException>(() => AmqpWriter.SizeOf(new AmqpArray([1, "x"])));
        Assert.Throws<ArgumentException>(() => AmqpWriter.SizeOf(new AmqpArray([null, 1])));

        var cyclic = new List<object?>();
        cyclic.Add(cyclic);
        Assert.Throws<ArgumentException>(() => AmqpWriter.SizeOf(cyclic));
    }
}
