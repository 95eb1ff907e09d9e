using System.Buffers.Binary;
using System.Text;

namespace Streams.Client.Protocol;

/// <summary>Big-endian writer of protocol primitives over a span. The caller sizes the span with the <c>SizeOf</c> helpers.</summary>
internal ref struct ProtocolWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    public ProtocolWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    /// <summary>Bytes written so far.</summary>
    public readonly int Position => _position;

    /// <summary>The bytes written so far.</summary>
    public readonly Span<byte> Written => _buffer[.._position];

    public void WriteUInt8(byte value) => _buffer[_position++] = value;

    public void WriteInt8(sbyte value) => _buffer[_position++] = unchecked((byte)value);

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[_position..], value);
        _position += 2;
    }

    public void WriteInt16(short value)
    {
        BinaryPrimitives.WriteInt16BigEndian(_buffer[_position..], value);
        _position += 2;
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer[_position..], value);
        _position += 4;
    }

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_buffer[_position..], value);
        _position += 4;
    }

    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(_buffer[_position..], value);
        _position += 8;
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(_buffer[_position..], value);
        _position += 8;
    }

    /// <summary>Writes a protocol string: i16 length (−1 for null) + UTF-8 bytes.</summary>
    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteInt16(-1);
            return;
        }

        var length = Encoding.UTF8.GetBytes(value, _buffer[(_position + 2)..]);
        if (length > short.MaxValue)
        {
            throw new ArgumentException($"A protocol string is limited to {short.MaxValue} UTF-8 bytes (got {length}).", nameof(value));
        }

        BinaryPrimitives.WriteInt16BigEndian(_buffer[_position..], (short)length);
        _position += 2 + length;
    }

    /// <summary>Writes protocol bytes: i32 length + raw bytes.</summary>
    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteInt32(value.Length);
        value.CopyTo(_buffer[_position..]);
        _position += value.Length;
    }

    /// <summary>Writes null protocol bytes (length −1).</summary>
    public void WriteNullBytes() => WriteInt32(-1);

    /// <summary>Writes raw bytes without a length.</summary>
    public void WriteRaw(ReadOnlySpan<byte> value)
    {
        value.CopyTo(_buffer[_position..]);
        _position += value.Length;
    }

    /// <summary>Writes an array of strings: i32 count + strings.</summary>
    public void WriteStringArray(IReadOnlyList<string> values)
    {
        WriteInt32(values.Count);
        for (var i = 0; i < values.Count; i++)
        {
            WriteString(values[i]);
        }
    }

    /// <summary>Writes a string map: i32 count + (key, value) pairs.</summary>
    public void WriteMap(IReadOnlyDictionary<string, string>? map)
    {
        if (map is null)
        {
            WriteInt32(0);
            return;
        }

        WriteInt32(map.Count);
        foreach (var pair in map)
        {
            WriteString(pair.Key);
            WriteString(pair.Value);
        }
    }

    /// <summary>Writes the size prefix, key and version of a frame of <paramref name="totalLength"/> bytes.</summary>
    public void WriteFrameHeader(int totalLength, ushort key, ushort version)
    {
        WriteUInt32((uint)(totalLength - ProtocolConstants.SizePrefix));
        WriteUInt16(key);
        WriteUInt16(version);
    }

    /// <summary>Writes the size prefix, key, version 1 and correlation id of a request.</summary>
    public void WriteRequestHeader(int totalLength, CommandKey key, uint correlationId)
    {
        WriteFrameHeader(totalLength, (ushort)key, ProtocolConstants.Version1);
        WriteUInt32(correlationId);
    }

    /// <summary>Protocol size of a string.</summary>
    public static int SizeOf(string? value) => value is null ? 2 : 2 + Encoding.UTF8.GetByteCount(value);

    /// <summary>Protocol size of a string array.</summary>
    public static int SizeOf(IReadOnlyList<string> values)
    {
        var size = 4;
        for (var i = 0; i < values.Count; i++)
        {
            size += SizeOf(values[i]);
        }

        return size;
    }

    /// <summary>Protocol size of a string map.</summary>
    public static int SizeOf(IReadOnlyDictionary<string, string>? map)
    {
        var size = 4;
        if (map is not null)
        {
            foreach (var pair in map)
            {
                size += SizeOf(pair.Key) + SizeOf(pair.Value);
            }
        }

        return size;
    }
}
