using System.Buffers.Binary;
using System.Text;

namespace Streams.Client.Protocol;

/// <summary>Big-endian reader of protocol primitives over a span. Throws <see cref="StreamProtocolFormatException"/> on truncated input.</summary>
internal ref struct ProtocolReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    public ProtocolReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _buffer.Length - _position;

    public readonly bool HasMore => _position < _buffer.Length;

    public readonly ReadOnlySpan<byte> Rest => _buffer[_position..];

    private readonly void Need(int count)
    {
        if (_buffer.Length - _position < count)
        {
            throw new StreamProtocolFormatException($"Truncated frame: needed {count} more bytes at position {_position}, {_buffer.Length - _position} left.");
        }
    }

    public byte ReadUInt8()
    {
        Need(1);
        return _buffer[_position++];
    }

    public sbyte ReadInt8() => unchecked((sbyte)ReadUInt8());

    public ushort ReadUInt16()
    {
        Need(2);
        var v = BinaryPrimitives.ReadUInt16BigEndian(_buffer[_position..]);
        _position += 2;
        return v;
    }

    public short ReadInt16()
    {
        Need(2);
        var v = BinaryPrimitives.ReadInt16BigEndian(_buffer[_position..]);
        _position += 2;
        return v;
    }

    public uint ReadUInt32()
    {
        Need(4);
        var v = BinaryPrimitives.ReadUInt32BigEndian(_buffer[_position..]);
        _position += 4;
        return v;
    }

    public int ReadInt32()
    {
        Need(4);
        var v = BinaryPrimitives.ReadInt32BigEndian(_buffer[_position..]);
        _position += 4;
        return v;
    }

    public ulong ReadUInt64()
    {
        Need(8);
        var v = BinaryPrimitives.ReadUInt64BigEndian(_buffer[_position..]);
        _position += 8;
        return v;
    }

    public long ReadInt64()
    {
        Need(8);
        var v = BinaryPrimitives.ReadInt64BigEndian(_buffer[_position..]);
        _position += 8;
        return v;
    }

    /// <summary>Reads a protocol string (null for length −1).</summary>
    public string? ReadString()
    {
        var length = ReadInt16();
        if (length < 0)
        {
            return null;
        }

        Need(length);
        var s = Encoding.UTF8.GetString(_buffer.Slice(_position, length));
        _position += length;
        return s;
    }

    /// <summary>Reads a protocol string, mapping null to empty.</summary>
    public string ReadNonNullString() => ReadString() ?? string.Empty;

    /// <summary>Reads protocol bytes (i32 length, −1 = null → empty with <paramref name="isNull"/> set).</summary>
    public ReadOnlySpan<byte> ReadBytes(out bool isNull)
    {
        var length = ReadInt32();
        isNull = length < 0;
        if (isNull)
        {
            return [];
        }

        Need(length);
        var s = _buffer.Slice(_position, length);
        _position += length;
        return s;
    }

    /// <summary>Reads <paramref name="count"/> raw bytes.</summary>
    public ReadOnlySpan<byte> ReadRaw(int count)
    {
        Need(count);
        var s = _buffer.Slice(_position, count);
        _position += count;
        return s;
    }

    /// <summary>Reads an array count (u32 on the wire, bounded by the remaining bytes).</summary>
    public int ReadCount(int minElementSize)
    {
        var count = ReadUInt32();
        if (count > int.MaxValue || (minElementSize > 0 && count > (uint)(Remaining / minElementSize)))
        {
            throw new StreamProtocolFormatException($"Array count {count} does not fit the {Remaining} remaining bytes.");
        }

        return (int)count;
    }

    public string[] ReadStringArray()
    {
        var count = ReadCount(2);
        var result = count == 0 ? [] : new string[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = ReadNonNullString();
        }

        return result;
    }

    public Dictionary<string, string> ReadMap()
    {
        var count = ReadCount(4);
        var result = new Dictionary<string, string>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var key = ReadNonNullString();
            result[key] = ReadNonNullString();
        }

        return result;
    }

    /// <summary>Reads an optional trailing map: absent (no bytes left) → empty map.</summary>
    public Dictionary<string, string> ReadOptionalMap() => HasMore ? ReadMap() : new Dictionary<string, string>(StringComparer.Ordinal);
}
