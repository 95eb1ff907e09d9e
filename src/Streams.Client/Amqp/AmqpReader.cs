using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace Streams.Client.Amqp;

/// <summary>
/// Reads AMQP 1.0 values from a span. Accepts every width variant of every constructor. Any malformed input throws
/// <see cref="AmqpDecodeException"/> with the byte offset; lengths and counts are validated against the remaining
/// bytes before anything is allocated.
/// </summary>
internal ref struct AmqpReader
{
    /// <summary>
    /// Elements of arrays whose element type takes no bytes (null, true, false, uint0, ulong0, list0) are not bounded
    /// by the input size, so a whole message may hold at most max(input length, this) of them: a forged count cannot
    /// amplify a few bytes into millions of objects.
    /// </summary>
    internal const int MinZeroWidthElementBudget = 4096;

    private static readonly object BoxedTrue = true;
    private static readonly object BoxedFalse = false;
    private static readonly object BoxedUInt0 = 0u;
    private static readonly object BoxedULong0 = 0ul;

    private static readonly long MinTimestamp = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
    private static readonly long MaxTimestamp = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;
    private int _zeroWidthBudget;

    public AmqpReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
        _zeroWidthBudget = Math.Max(buffer.Length, MinZeroWidthElementBudget);
    }

    public readonly int Position => _position;

    public readonly int Remaining => _buffer.Length - _position;

    public readonly bool IsAtEnd => _position >= _buffer.Length;

    public readonly AmqpDecodeException Error(string message) => new(message, _position);

    private static AmqpDecodeException Error(string message, int position) => new(message, position);

    // ---------------------------------------------------------------- raw bytes

    public byte ReadRawByte()
    {
        if (_position >= _buffer.Length)
        {
            throw Error("Unexpected end of data");
        }

        return _buffer[_position++];
    }

    public readonly byte PeekRawByte()
    {
        if (_position >= _buffer.Length)
        {
            throw Error("Unexpected end of data");
        }

        return _buffer[_position];
    }

    private ReadOnlySpan<byte> ReadRaw(int count)
    {
        if ((uint)count > (uint)(_buffer.Length - _position))
        {
            throw Error($"Unexpected end of data: {count} bytes needed, {_buffer.Length - _position} left");
        }

        var span = _buffer.Slice(_position, count);
        _position += count;
        return span;
    }

    /// <summary>Reads a u8 or u32 length (per <paramref name="wide"/>) and checks it fits in the remaining bytes.</summary>
    private int ReadLength(bool wide)
    {
        var at = _position;
        uint length = wide ? BinaryPrimitives.ReadUInt32BigEndian(ReadRaw(4)) : ReadRawByte();
        if (length > (uint)(_buffer.Length - _position))
        {
            throw Error($"Length {length} exceeds the {_buffer.Length - _position} remaining bytes", at);
        }

        return (int)length;
    }

    // ---------------------------------------------------------------- generic values

    /// <summary>Reads one value of any type (described values included).</summary>
    public object? ReadValue(int depth = 0)
    {
        var at = _position;
        var code = ReadRawByte();
        if (code == AmqpTypeCode.Described)
        {
            CheckDepth(depth, at);
            var descriptor = ReadValue(depth + 1);
            if (descriptor is null)
            {
                throw Error("A descriptor must not be null", at);
            }

            var value = ReadValue(depth + 1);
            return new AmqpDescribed(descriptor, value);
        }

        return ReadBody(code, at, depth);
    }

    /// <summary>Skips one value of any type (validating it).</summary>
    public void SkipValue(int depth = 0) => _ = ReadValue(depth);

    private static void CheckDepth(int depth, int at)
    {
        if (depth >= AmqpTypeCode.MaxDepth)
        {
            throw Error($"Values are nested deeper than {AmqpTypeCode.MaxDepth} levels", at);
        }
    }

    /// <summary>Reads the body of a value whose constructor <paramref name="code"/> (at <paramref name="at"/>) was already read.</summary>
    private object? ReadBody(byte code, int at, int depth)
    {
        switch (code)
        {
            case AmqpTypeCode.Null:
                return null;
            case AmqpTypeCode.BooleanTrue:
                return BoxedTrue;
            case AmqpTypeCode.BooleanFalse:
                return BoxedFalse;
            case AmqpTypeCode.Boolean:
                return ReadBooleanByte() ? BoxedTrue : BoxedFalse;
            case AmqpTypeCode.UInt0:
                return BoxedUInt0;
            case AmqpTypeCode.ULong0:
                return BoxedULong0;
            case AmqpTypeCode.UByte:
                return ReadRawByte();
            case AmqpTypeCode.Byte:
                return unchecked((sbyte)ReadRawByte());
            case AmqpTypeCode.UShort:
                return BinaryPrimitives.ReadUInt16BigEndian(ReadRaw(2));
            case AmqpTypeCode.Short:
                return BinaryPrimitives.ReadInt16BigEndian(ReadRaw(2));
            case AmqpTypeCode.SmallUInt:
            case AmqpTypeCode.UInt:
                return ReadUIntBody(code);
            case AmqpTypeCode.SmallULong:
            case AmqpTypeCode.ULong:
                return ReadULongBody(code);
            case AmqpTypeCode.SmallInt:
                return (int)unchecked((sbyte)ReadRawByte());
            case AmqpTypeCode.Int:
                return BinaryPrimitives.ReadInt32BigEndian(ReadRaw(4));
            case AmqpTypeCode.SmallLong:
                return (long)unchecked((sbyte)ReadRawByte());
            case AmqpTypeCode.Long:
                return BinaryPrimitives.ReadInt64BigEndian(ReadRaw(8));
            case AmqpTypeCode.Float:
                return BinaryPrimitives.ReadSingleBigEndian(ReadRaw(4));
            case AmqpTypeCode.Double:
                return BinaryPrimitives.ReadDoubleBigEndian(ReadRaw(8));
            case AmqpTypeCode.Char:
            {
                var value = BinaryPrimitives.ReadUInt32BigEndian(ReadRaw(4));
                if (value > int.MaxValue || !Rune.IsValid((int)value))
                {
                    throw Error($"0x{value:x} is not a valid Unicode scalar value for an AMQP char", at);
                }

                return new Rune((int)value);
            }

            case AmqpTypeCode.Timestamp:
                return ReadTimestampBody();
            case AmqpTypeCode.Uuid:
                return new Guid(ReadRaw(16), bigEndian: true);
            case AmqpTypeCode.Decimal32:
                return new AmqpDecimal32(BinaryPrimitives.ReadUInt32BigEndian(ReadRaw(4)));
            case AmqpTypeCode.Decimal64:
                return new AmqpDecimal64(BinaryPrimitives.ReadUInt64BigEndian(ReadRaw(8)));
            case AmqpTypeCode.Decimal128:
            {
                var raw = ReadRaw(16);
                return new AmqpDecimal128(
                    BinaryPrimitives.ReadUInt64BigEndian(raw),
                    BinaryPrimitives.ReadUInt64BigEndian(raw.Slice(8)));
            }

            case AmqpTypeCode.Binary8:
            case AmqpTypeCode.Binary32:
                return ReadRaw(ReadLength(code == AmqpTypeCode.Binary32)).ToArray();
            case AmqpTypeCode.String8:
            case AmqpTypeCode.String32:
                return ReadUtf8(ReadLength(code == AmqpTypeCode.String32));
            case AmqpTypeCode.Symbol8:
            case AmqpTypeCode.Symbol32:
                return new AmqpSymbol(ReadUtf8(ReadLength(code == AmqpTypeCode.Symbol32)));
            case AmqpTypeCode.List0:
            case AmqpTypeCode.List8:
            case AmqpTypeCode.List32:
                CheckDepth(depth, at);
                return ReadListBody(code, depth + 1);
            case AmqpTypeCode.Map8:
            case AmqpTypeCode.Map32:
                CheckDepth(depth, at);
                return ReadMapBody(code, depth + 1);
            case AmqpTypeCode.Array8:
            case AmqpTypeCode.Array32:
                CheckDepth(depth, at);
                return ReadArrayBody(code == AmqpTypeCode.Array32, depth + 1);
            default:
                throw Error($"Unknown AMQP constructor 0x{code:x2}", at);
        }
    }

    private bool ReadBooleanByte()
    {
        var at = _position;
        return ReadRawByte() switch
        {
            0 => false,
            1 => true,
            var other => throw Error($"Invalid boolean byte 0x{other:x2}", at),
        };
    }

    private uint ReadUIntBody(byte code) => code switch
    {
        AmqpTypeCode.UInt0 => 0u,
        AmqpTypeCode.SmallUInt => ReadRawByte(),
        _ => BinaryPrimitives.ReadUInt32BigEndian(ReadRaw(4)),
    };

    private ulong ReadULongBody(byte code) => code switch
    {
        AmqpTypeCode.ULong0 => 0ul,
        AmqpTypeCode.SmallULong => ReadRawByte(),
        _ => BinaryPrimitives.ReadUInt64BigEndian(ReadRaw(8)),
    };

    /// <summary>
    /// Reads a timestamp body. Values outside the range of <see cref="DateTimeOffset"/> are clamped to
    /// <see cref="DateTimeOffset.MinValue"/> / <see cref="DateTimeOffset.MaxValue"/>.
    /// </summary>
    private DateTimeOffset ReadTimestampBody()
    {
        var ms = BinaryPrimitives.ReadInt64BigEndian(ReadRaw(8));
        return ms < MinTimestamp ? DateTimeOffset.MinValue
            : ms > MaxTimestamp ? DateTimeOffset.MaxValue
            : DateTimeOffset.FromUnixTimeMilliseconds(ms);
    }

    private string ReadUtf8(int length)
    {
        var at = _position;
        var bytes = ReadRaw(length);
        if (!Utf8.IsValid(bytes))
        {
            throw Error("Invalid UTF-8 in a string or symbol", at);
        }

        return Encoding.UTF8.GetString(bytes);
    }

    // ---------------------------------------------------------------- compound values

    /// <summary>
    /// Reads a list or map header after its constructor. Returns the element count and the offset where the
    /// compound ends; the count is validated against the declared size (every element takes at least one byte).
    /// </summary>
    private (int Count, int End) ReadCompoundHeader(bool wide, bool isMap)
    {
        var at = _position;
        var size = ReadLength(wide);
        var end = _position + size;
        var countWidth = wide ? 4 : 1;
        if (size < countWidth)
        {
            throw Error($"Compound size {size} is too small to hold its count", at);
        }

        uint count = wide ? BinaryPrimitives.ReadUInt32BigEndian(ReadRaw(4)) : ReadRawByte();
        if (count > (uint)(end - _position))
        {
            throw Error($"Element count {count} exceeds the {end - _position} bytes of the compound", at);
        }

        if (isMap && (count & 1) != 0)
        {
            throw Error($"Map count {count} is odd", at);
        }

        return ((int)count, end);
    }

    /// <summary>Reads a list header (list0/list8/list32, or null as an empty list). Returns count and end.</summary>
    public (int Count, int End) ReadListHeader()
    {
        var at = _position;
        var code = ReadRawByte();
        return code switch
        {
            AmqpTypeCode.Null or AmqpTypeCode.List0 => (0, _position),
            AmqpTypeCode.List8 => ReadCompoundHeader(wide: false, isMap: false),
            AmqpTypeCode.List32 => ReadCompoundHeader(wide: true, isMap: false),
            _ => throw Error($"Expected a list, found constructor 0x{code:x2}", at),
        };
    }

    /// <summary>Reads a map header (map8/map32, or null as an empty map). Returns count (keys + values) and end.</summary>
    public (int Count, int End) ReadMapHeader()
    {
        var at = _position;
        var code = ReadRawByte();
        return code switch
        {
            AmqpTypeCode.Null => (0, _position),
            AmqpTypeCode.Map8 => ReadCompoundHeader(wide: false, isMap: true),
            AmqpTypeCode.Map32 => ReadCompoundHeader(wide: true, isMap: true),
            _ => throw Error($"Expected a map, found constructor 0x{code:x2}", at),
        };
    }

    /// <summary>Checks that a list, map or array consumed exactly its declared size.</summary>
    public readonly void ExpectEnd(int end)
    {
        if (_position != end)
        {
            throw Error($"Compound value declared to end at byte {end} but its elements end at byte {_position}");
        }
    }

    private List<object?> ReadListBody(byte code, int depth)
    {
        if (code == AmqpTypeCode.List0)
        {
            return [];
        }

        var (count, end) = ReadCompoundHeader(code == AmqpTypeCode.List32, isMap: false);
        var list = new List<object?>(count);
        for (var i = 0; i < count; i++)
        {
            list.Add(ReadValue(depth));
        }

        ExpectEnd(end);
        return list;
    }

    private Dictionary<object, object?> ReadMapBody(byte code, int depth)
    {
        var (count, end) = ReadCompoundHeader(code == AmqpTypeCode.Map32, isMap: true);
        var map = new Dictionary<object, object?>(count / 2);
        for (var i = 0; i < count; i += 2)
        {
            var at = _position;
            var key = ReadValue(depth) ?? throw Error("Null map keys are not supported", at);
            var value = ReadValue(depth);
            if (!map.TryAdd(key, value))
            {
                throw Error($"Duplicate map key '{key}'", at);
            }
        }

        ExpectEnd(end);
        return map;
    }

    private AmqpArray ReadArrayBody(bool wide, int depth)
    {
        var (count, end) = ReadArrayHeader(wide);
        object? descriptor = null;
        var at = _position;
        var code = ReadRawByte();
        if (code == AmqpTypeCode.Described)
        {
            descriptor = ReadValue(depth) ?? throw Error("A descriptor must not be null", at);
            at = _position;
            code = ReadRawByte();
            if (code == AmqpTypeCode.Described)
            {
                throw Error("Nested described array element constructors are not supported", at);
            }
        }

        var width = AmqpTypeCode.FixedWidth(code);
        if (width == -2)
        {
            throw Error($"Unknown AMQP constructor 0x{code:x2} for array elements", at);
        }

        var available = (long)(end - _position);
        var fits = width switch
        {
            0 => count <= _zeroWidthBudget,
            > 0 => (long)count * width <= available,
            _ => count <= available,
        };
        if (!fits)
        {
            throw Error(
                width == 0
                    ? $"Array element count {count} exceeds the {_zeroWidthBudget} zero-width elements left for this message"
                    : $"Array element count {count} does not fit in the {available} bytes of the array",
                at);
        }

        if (width == 0)
        {
            _zeroWidthBudget -= count;
        }

        var items = new List<object?>(count);
        for (var i = 0; i < count; i++)
        {
            items.Add(ReadBody(code, _position, depth));
        }

        ExpectEnd(end);
        return new AmqpArray(items, descriptor);
    }

    private (int Count, int End) ReadArrayHeader(bool wide)
    {
        var at = _position;
        var size = ReadLength(wide);
        var end = _position + size;
        var countWidth = wide ? 4 : 1;
        if (size < countWidth + 1)
        {
            throw Error($"Array size {size} is too small to hold its count and element constructor", at);
        }

        uint count = wide ? BinaryPrimitives.ReadUInt32BigEndian(ReadRaw(4)) : ReadRawByte();
        if (count > int.MaxValue)
        {
            throw Error($"Array element count {count} is too large", at);
        }

        return ((int)count, end);
    }

    // ---------------------------------------------------------------- typed fields (for sections)

    /// <summary>Reads a boolean encoded as 0x56, 0x41 or 0x42; null (0x40) yields null.</summary>
    public bool? ReadNullableBoolean()
    {
        var at = _position;
        var code = ReadRawByte();
        return code switch
        {
            AmqpTypeCode.Null => null,
            AmqpTypeCode.BooleanTrue => true,
            AmqpTypeCode.BooleanFalse => false,
            AmqpTypeCode.Boolean => ReadBooleanByte(),
            _ => throw Error($"Expected a boolean, found constructor 0x{code:x2}", at),
        };
    }

    /// <summary>Reads a ubyte; null yields null.</summary>
    public byte? ReadNullableUByte()
    {
        var at = _position;
        var code = ReadRawByte();
        return code switch
        {
            AmqpTypeCode.Null => null,
            AmqpTypeCode.UByte => ReadRawByte(),
            _ => throw Error($"Expected a ubyte, found constructor 0x{code:x2}", at),
        };
    }

    /// <summary>Reads a uint in any width; null yields null.</summary>
    public uint? ReadNullableUInt()
    {
        var at = _position;
        var code = ReadRawByte();
        return code switch
        {
            AmqpTypeCode.Null => null,
            AmqpTypeCode.UInt0 or AmqpTypeCode.SmallUInt or AmqpTypeCode.UInt => ReadUIntBody(code),
            _ => throw Error($"Expected a uint, found constructor 0x{code:x2}", at),
        };
    }

    /// <summary>Reads a ulong in any width (section descriptors); throws for other types.</summary>
    public ulong ReadULong()
    {
        var at = _position;
        var code = ReadRawByte();
        return code switch
        {
            AmqpTypeCode.ULong0 or AmqpTypeCode.SmallULong or AmqpTypeCode.ULong => ReadULongBody(code),
            _ => throw Error($"Expected a ulong, found constructor 0x{code:x2}", at),
        };
    }

    /// <summary>Reads a timestamp; null yields null.</summary>
    public DateTimeOffset? ReadNullableTimestamp()
    {
        var at = _position;
        var code = ReadRawByte();
        return code switch
        {
            AmqpTypeCode.Null => null,
            AmqpTypeCode.Timestamp => ReadTimestampBody(),
            _ => throw Error($"Expected a timestamp, found constructor 0x{code:x2}", at),
        };
    }

    /// <summary>Reads a string or a symbol as a string; null yields null.</summary>
    public string? ReadNullableStringOrSymbol()
    {
        var at = _position;
        var code = ReadRawByte();
        return code switch
        {
            AmqpTypeCode.Null => null,
            AmqpTypeCode.String8 or AmqpTypeCode.Symbol8 => ReadUtf8(ReadLength(wide: false)),
            AmqpTypeCode.String32 or AmqpTypeCode.Symbol32 => ReadUtf8(ReadLength(wide: true)),
            _ => throw Error($"Expected a string or symbol, found constructor 0x{code:x2}", at),
        };
    }

    /// <summary>Reads a binary value as a copy; null yields null.</summary>
    public byte[]? ReadNullableBinary()
    {
        var at = _position;
        var code = ReadRawByte();
        return code switch
        {
            AmqpTypeCode.Null => null,
            AmqpTypeCode.Binary8 => ReadRaw(ReadLength(wide: false)).ToArray(),
            AmqpTypeCode.Binary32 => ReadRaw(ReadLength(wide: true)).ToArray(),
            _ => throw Error($"Expected binary, found constructor 0x{code:x2}", at),
        };
    }

    /// <summary>Reads a binary value and returns where its bytes are, without copying.</summary>
    public (int Offset, int Length) ReadBinaryRange()
    {
        var at = _position;
        var code = ReadRawByte();
        var length = code switch
        {
            AmqpTypeCode.Binary8 => ReadLength(wide: false),
            AmqpTypeCode.Binary32 => ReadLength(wide: true),
            _ => throw Error($"Expected binary, found constructor 0x{code:x2}", at),
        };
        var offset = _position;
        _position += length;
        return (offset, length);
    }

    /// <summary>Reads an annotation or application-property key: a symbol or string (or, for annotations, a ulong rendered in decimal).</summary>
    public string ReadKey(bool allowULong)
    {
        var at = _position;
        var code = ReadRawByte();
        switch (code)
        {
            case AmqpTypeCode.String8 or AmqpTypeCode.Symbol8:
                return ReadUtf8(ReadLength(wide: false));
            case AmqpTypeCode.String32 or AmqpTypeCode.Symbol32:
                return ReadUtf8(ReadLength(wide: true));
            case AmqpTypeCode.ULong0 or AmqpTypeCode.SmallULong or AmqpTypeCode.ULong when allowULong:
                return ReadULongBody(code).ToString(CultureInfo.InvariantCulture);
            default:
                throw Error($"Expected a symbol or string key, found constructor 0x{code:x2}", at);
        }
    }
}
