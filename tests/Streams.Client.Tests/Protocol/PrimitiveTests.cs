using Streams.Client.Protocol;

namespace Streams.Client.Tests.Protocol;

public sealed class PrimitiveTests
{
    [Fact]
    public void Integers_are_big_endian()
    {
        var buffer = new byte[30];
        var w = new ProtocolWriter(buffer);
        w.WriteUInt8(0x01);
        w.WriteInt8(-2);
        w.WriteUInt16(0x0203);
        w.WriteInt16(-2);
        w.WriteUInt32(0x04050607);
        w.WriteInt32(-2);
        w.WriteUInt64(0x08090a0b0c0d0e0f);
        Hex.Equal("01 fe 02 03 ff fe 04 05 06 07 ff ff ff fe 08 09 0a 0b 0c 0d 0e 0f", w.Written);
    }

    [Fact]
    public void Strings_bytes_arrays_and_maps()
    {
        var buffer = new byte[64];
        var w = new ProtocolWriter(buffer);
        w.WriteString(null);
        w.WriteString(string.Empty);
        w.WriteString("ab");
        w.WriteBytes([0xaa]);
        w.WriteNullBytes();
        w.WriteStringArray(["x"]);
        w.WriteMap(new Dictionary<string, string> { ["k"] = "v" });
        Hex.Equal("ff ff | 00 00 | 00 02 \"ab\" | 00 00 00 01 aa | ff ff ff ff | 00 00 00 01 00 01 \"x\" | 00 00 00 01 00 01 \"k\" 00 01 \"v\"", w.Written);

        var r = new ProtocolReader(w.Written);
        Assert.Null(r.ReadString());
        Assert.Equal(string.Empty, r.ReadString());
        Assert.Equal("ab", r.ReadString());
        Assert.Equal([0xaa], r.ReadBytes(out var isNull).ToArray());
        Assert.False(isNull);
        Assert.True(r.ReadBytes(out isNull).IsEmpty);
        Assert.True(isNull);
        Assert.Equal(["x"], r.ReadStringArray());
        Assert.Equal("v", r.ReadMap()["k"]);
        Assert.False(r.HasMore);
    }

    [Fact]
    public void Randomized_round_trips()
    {
        var random = new Random(20261122);
        var buffer = new byte[4096];
        for (var iteration = 0; iteration < 500; iteration++)
        {
            var u8 = (byte)random.Next(256);
            var i8 = (sbyte)random.Next(-128, 128);
            var u16 = (ushort)random.Next(65536);
            var i16 = (short)random.Next(short.MinValue, short.MaxValue + 1);
            var u32 = (uint)random.NextInt64(0, uint.MaxValue + 1L);
            var i32 = random.Next(int.MinValue, int.MaxValue);
            var u64 = (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63);
            var i64 = random.NextInt64(long.MinValue, long.MaxValue);
            var text = RandomString(random);
            var bytes = new byte[random.Next(0, 40)];
            random.NextBytes(bytes);
            var map = Enumerable.Range(0, random.Next(0, 4)).ToDictionary(i => $"k{i}{RandomString(random)}", _ => RandomString(random));
            var array = Enumerable.Range(0, random.Next(0, 4)).Select(_ => RandomString(random)).ToArray();

            var w = new ProtocolWriter(buffer);
            w.WriteUInt8(u8);
            w.WriteInt8(i8);
            w.WriteUInt16(u16);
            w.WriteInt16(i16);
            w.WriteUInt32(u32);
            w.WriteInt32(i32);
            w.WriteUInt64(u64);
            w.WriteInt64(i64);
            w.WriteString(text);
            w.WriteBytes(bytes);
            w.WriteMap(map);
            w.WriteStringArray(array);
            Assert.Equal(1 + 1 + 2 + 2 + 4 + 4 + 8 + 8 + ProtocolWriter.SizeOf(text) + 4 + bytes.Length + ProtocolWriter.SizeOf(map) + ProtocolWriter.SizeOf(array), w.Position);

            var r = new ProtocolReader(w.Written);
            Assert.Equal(u8, r.ReadUInt8());
            Assert.Equal(i8, r.ReadInt8());
            Assert.Equal(u16, r.ReadUInt16());
            Assert.Equal(i16, r.ReadInt16());
            Assert.Equal(u32, r.ReadUInt32());
            Assert.Equal(i32, r.ReadInt32());
            Assert.Equal(u64, r.ReadUInt64());
            Assert.Equal(i64, r.ReadInt64());
            Assert.Equal(text, r.ReadString());
            Assert.Equal(bytes, r.ReadBytes(out _).ToArray());
            Assert.Equal(map, r.ReadMap());
            Assert.Equal(array, r.ReadStringArray());
            Assert.Equal(0, r.Remaining);
        }
    }

    private static string RandomString(Random random)
    {
        const string alphabet = "abcXYZ019-_.é€😀";
        var length = random.Next(0, 12);
        var builder = new System.Text.StringBuilder();
        for (var i = 0; i < length; i++)
        {
            var c = alphabet[random.Next(alphabet.Length)];
            if (char.IsSurrogate(c))
            {
                builder.Append("😀");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    [Fact]
    public void Truncated_input_throws_a_format_exception()
    {
        Assert.Throws<StreamProtocolFormatException>(() => new ProtocolReader([0x00]).ReadUInt16());
        Assert.Throws<StreamProtocolFormatException>(() => new ProtocolReader([0x00, 0x05, 0x61]).ReadString());
        Assert.Throws<StreamProtocolFormatException>(() => new ProtocolReader([0x00, 0x00, 0x00, 0x05]).ReadBytes(out _));
        Assert.Throws<StreamProtocolFormatException>(() => new ProtocolReader([0x7f, 0xff, 0xff, 0xff]).ReadMap());
    }

    [Fact]
    public void Optional_map_absent_or_present()
    {
        Assert.Empty(new ProtocolReader([]).ReadOptionalMap());
        Assert.Empty(new ProtocolReader([0, 0, 0, 0]).ReadOptionalMap());
    }

    [Fact]
    public void Response_key_sets_the_top_bit()
    {
        Assert.Equal(0x8007, ProtocolConstants.ToResponse(CommandKey.Subscribe));
        Assert.Equal(31, Enum.GetValues<CommandKey>().Length);
        Assert.Equal(Enumerable.Range(1, 31).Select(i => (CommandKey)i), Enum.GetValues<CommandKey>().Order());
    }
}
