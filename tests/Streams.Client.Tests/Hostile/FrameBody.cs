using System.Buffers.Binary;
using System.Text;

namespace Streams.Client.Tests.Hostile;

/// <summary>A big-endian frame body under construction (the scripted servers' writer).</summary>
internal sealed class FrameBody
{
    private readonly MemoryStream _data = new();

    public FrameBody U8(byte value)
    {
        _data.WriteByte(value);
        return this;
    }

    public FrameBody U16(ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, value);
        _data.Write(b);
        return this;
    }

    public FrameBody U32(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, value);
        _data.Write(b);
        return this;
    }

    public FrameBody U64(ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, value);
        _data.Write(b);
        return this;
    }

    public FrameBody Str(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        U16((ushort)bytes.Length);
        _data.Write(bytes);
        return this;
    }

    public FrameBody Bytes(byte[] raw)
    {
        _data.Write(raw);
        return this;
    }

    public byte[] Body() => _data.ToArray();

    /// <summary>The body with its u32 size prefix.</summary>
    public byte[] Framed()
    {
        var body = _data.ToArray();
        var frame = new byte[body.Length + 4];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)body.Length);
        body.CopyTo(frame, 4);
        return frame;
    }
}
