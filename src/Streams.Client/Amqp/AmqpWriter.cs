using System.Buffers.Binary;
using System.Collections;
using System.Text;

namespace Streams.Client.Amqp;

/// <summary>
/// Writes AMQP 1.0 values into a span, always choosing the smallest encoding. The destination must be large enough:
/// compute it first with the static <c>SizeOf…</c> methods (writing past the end throws).
/// </summary>
internal ref struct AmqpWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    public AmqpWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    /// <summary>The number of bytes written so far.</summary>
    public readonly int Position => _position;

    // ---------------------------------------------------------------- sizes

    public static int SizeOfUInt(uint value) => value == 0 ? 1 : value <= byte.MaxValue ? 2 : 5;

    public static int SizeOfULong(ulong value) => value == 0 ? 1 : value <= byte.MaxValue ? 2 : 9;

    public static int SizeOfInt(int value) => value is >= sbyte.MinValue and <= sbyte.MaxValue ? 2 : 5;

    public static int SizeOfLong(long value) => value is >= sbyte.MinValue and <= sbyte.MaxValue ? 2 : 9;

    public static int SizeOfVariable(int length) => length <= byte.MaxValue ? 2 + length : checked(5 + length);

    public static int SizeOfString(string value) => SizeOfVariable(Encoding.UTF8.GetByteCount(value));

    public static int SizeOfSymbol(string value)
    {
        if (!Ascii.IsValid(value))
        {
            throw new ArgumentException($"AMQP symbols must be ASCII: '{value}'.", nameof(value));
        }

        return SizeOfVariable(value.Length);
    }

    /// <summary>The size of a list or map given its element count and the total size of its elements.</summary>
    public static int SizeOfCompound(int count, int payload, bool isList)
    {
        if (count == 0 && isList)
        {
            return 1;
        }

        return count <= byte.MaxValue && payload < byte.MaxValue ? 3 + payload : checked(9 + payload);
    }

    /// <summary>The encoded size of any supported value, constructor included.</summary>
    public static int SizeOf(object? value, int depth = 0)
    {
        switch (value)
        {
            case null:
            case bool:
                return 1;
            case string s:
                return SizeOfString(s);
            case int i:
                return SizeOfInt(i);
            case long l:
                return SizeOfLong(l);
            case ulong ul:
                return SizeOfULong(ul);
            case uint ui:
                return SizeOfUInt(ui);
            case byte:
            case sbyte:
                return 2;
            case ushort:
            case short:
                return 3;
            case char c when char.IsSurrogate(c):
                throw new ArgumentException("A lone UTF-16 surrogate cannot be encoded as an AMQP char; use System.Text.Rune.", nameof(value));
            case float:
            case AmqpDecimal32:
            case char:
            case System.Text.Rune:
                return 5;
            case double:
            case DateTimeOffset:
            case AmqpDecimal64:
                return 9;
            case Guid:
            case AmqpDecimal128:
                return 17;
            case byte[] bytes:
                return SizeOfVariable(bytes.Length);
            case ReadOnlyMemory<byte> rom:
                return SizeOfVariable(rom.Length);
            case Memory<byte> mem:
                return SizeOfVariable(mem.Length);
            case AmqpSymbol sym:
                return SizeOfSymbol(sym.Value);
            case AmqpDescribed described:
                CheckDepth(depth);
                return checked(1 + SizeOf(described.Descriptor, depth + 1) + SizeOf(described.Value, depth + 1));
            case AmqpArray array:
                CheckDepth(depth);
                return SizeOfArray(array, depth + 1, out _, out _);
            case IList<object?> list:
                CheckDepth(depth);
                return SizeOfCompound(list.Count, ListPayload(list, depth + 1), isList: true);
            case IDictionary<string, object?> stringMap:
                CheckDepth(depth);
                return SizeOfCompound(stringMap.Count * 2, StringMapPayload(stringMap, symbolKeys: false, depth + 1), isList: false);
            case IDictionary<object, object?> objectMap:
                CheckDepth(depth);
                return SizeOfCompound(objectMap.Count * 2, ObjectMapPayload(objectMap, depth + 1), isList: false);
            case IDictionary map:
                CheckDepth(depth);
                return SizeOfCompound(map.Count * 2, LegacyMapPayload(map, depth + 1), isList: false);
            case IList legacyList:
                CheckDepth(depth);
                return SizeOfCompound(legacyList.Count, LegacyListPayload(legacyList, depth + 1), isList: true);
            default:
                throw new ArgumentException(
                    $"Values of type {value.GetType()} cannot be encoded as AMQP 1.0. Use a primitive, string, Guid, "
                    + "DateTimeOffset, byte[], ReadOnlyMemory<byte>, AmqpSymbol, AmqpDescribed, AmqpArray, decimals, "
                    + "IList<object?> or IDictionary<,>.",
                    nameof(value));
        }
    }

    public static int ListPayload(IList<object?> list, int depth)
    {
        var total = 0;
        for (var i = 0; i < list.Count; i++)
        {
            total = checked(total + SizeOf(list[i], depth));
        }

        return total;
    }

    /// <summary>The total size of the keys and values of a string-keyed map (keys as str or sym).</summary>
    public static int StringMapPayload(IDictionary<string, object?> map, bool symbolKeys, int depth)
    {
        var total = 0;
        if (map is Dictionary<string, object?> dictionary)
        {
            foreach (var pair in dictionary)
            {
                total = checked(total + KeySize(pair.Key, symbolKeys) + SizeOf(pair.Value, depth));
            }
        }
        else
        {
            foreach (var pair in map)
            {
                total = checked(total + KeySize(pair.Key, symbolKeys) + SizeOf(pair.Value, depth));
            }
        }

        return total;
    }

    private static int KeySize(string key, bool symbolKeys)
    {
        ArgumentNullException.ThrowIfNull(key);
        return symbolKeys ? SizeOfSymbol(key) : SizeOfString(key);
    }

    private static int ObjectMapPayload(IDictionary<object, object?> map, int depth)
    {
        var total = 0;
        foreach (var pair in map)
        {
            total = checked(total + SizeOf(pair.Key, depth) + SizeOf(pair.Value, depth));
        }

        return total;
    }

    private static int LegacyMapPayload(IDictionary map, int depth)
    {
        var total = 0;
        var enumerator = map.GetEnumerator();
        while (enumerator.MoveNext())
        {
            total = checked(total + SizeOf(enumerator.Key, depth) + SizeOf(enumerator.Value, depth));
        }

        return total;
    }

    private static int LegacyListPayload(IList list, int depth)
    {
        var total = 0;
        for (var i = 0; i < list.Count; i++)
        {
            total = checked(total + SizeOf(list[i], depth));
        }

        return total;
    }

    private static void CheckDepth(int depth)
    {
        if (depth >= AmqpTypeCode.MaxDepth)
        {
            throw new ArgumentException(
                $"AMQP values nested deeper than {AmqpTypeCode.MaxDepth} levels (or cyclic) cannot be encoded.");
        }
    }

    /// <summary>Picks the element constructor of an array and computes its size.</summary>
    private static int SizeOfArray(AmqpArray array, int depth, out byte elementCode, out int payload)
    {
        var items = array.Items;
        elementCode = ArrayElementCode(items);
        var descriptorSize = array.Descriptor is null ? 0 : 1 + SizeOf(array.Descriptor, depth);

        // payload = element constructor (+ descriptor) + element bodies.
        var total = checked(descriptorSize + 1);
        for (var i = 0; i < items.Count; i++)
        {
            total = checked(total + ArrayElementSize(elementCode, items[i], depth));
        }

        payload = total;
        var count = items.Count;
        return count <= byte.MaxValue && payload < byte.MaxValue ? 3 + payload : checked(9 + payload);
    }

    private static byte ArrayElementCode(IReadOnlyList<object?> items)
    {
        if (items.Count == 0)
        {
            return AmqpTypeCode.Null;
        }

        var first = items[0];
        var type = first?.GetType();
        var wide = false;
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (item?.GetType() != type && !(item is IList<object?> && first is IList<object?>)
                && !(item is IDictionary && first is IDictionary))
            {
                throw new ArgumentException("All elements of an AMQP array must have the same type.", nameof(items));
            }

            wide |= VariableLength(item) > byte.MaxValue;
        }

        return first switch
        {
            null => AmqpTypeCode.Null,
            bool => AmqpTypeCode.Boolean,
            byte => AmqpTypeCode.UByte,
            sbyte => AmqpTypeCode.Byte,
            ushort => AmqpTypeCode.UShort,
            short => AmqpTypeCode.Short,
            uint => AmqpTypeCode.UInt,
            int => AmqpTypeCode.Int,
            ulong => AmqpTypeCode.ULong,
            long => AmqpTypeCode.Long,
            float => AmqpTypeCode.Float,
            double => AmqpTypeCode.Double,
            char or System.Text.Rune => AmqpTypeCode.Char,
            DateTimeOffset => AmqpTypeCode.Timestamp,
            Guid => AmqpTypeCode.Uuid,
            AmqpDecimal32 => AmqpTypeCode.Decimal32,
            AmqpDecimal64 => AmqpTypeCode.Decimal64,
            AmqpDecimal128 => AmqpTypeCode.Decimal128,
            string => wide ? AmqpTypeCode.String32 : AmqpTypeCode.String8,
            AmqpSymbol => wide ? AmqpTypeCode.Symbol32 : AmqpTypeCode.Symbol8,
            byte[] or ReadOnlyMemory<byte> or Memory<byte> => wide ? AmqpTypeCode.Binary32 : AmqpTypeCode.Binary8,
            AmqpArray => AmqpTypeCode.Array32,
            IList<object?> => AmqpTypeCode.List32,
            IDictionary<string, object?> or IDictionary<object, object?> or IDictionary => AmqpTypeCode.Map32,
            _ => throw new ArgumentException(
                $"Values of type {first.GetType()} cannot be elements of an AMQP array.", nameof(items)),
        };
    }

    /// <summary>The size of one array element without its constructor.</summary>
    private static int ArrayElementSize(byte code, object? item, int depth)
    {
        var width = AmqpTypeCode.FixedWidth(code);
        if (width >= 0)
        {
            return width;
        }

        switch (code)
        {
            case AmqpTypeCode.String8 or AmqpTypeCode.Symbol8 or AmqpTypeCode.Binary8:
                return 1 + VariableLength(item);
            case AmqpTypeCode.String32 or AmqpTypeCode.Symbol32 or AmqpTypeCode.Binary32:
                return checked(4 + VariableLength(item));
            case AmqpTypeCode.Array32:
                return Array32BodySize((AmqpArray)item!, depth);
            case AmqpTypeCode.List32:
                CheckDepth(depth);
                return checked(8 + ListPayload((IList<object?>)item!, depth + 1));
            default:
                CheckDepth(depth);
                return checked(8 + MapPayloadAny(item!, depth + 1));
        }
    }

    private static int VariableLength(object? item) => item switch
    {
        string s => Encoding.UTF8.GetByteCount(s),
        AmqpSymbol sym => SizeOfSymbol(sym.Value) - (sym.Value.Length <= byte.MaxValue ? 2 : 5),
        byte[] b => b.Length,
        ReadOnlyMemory<byte> rom => rom.Length,
        Memory<byte> mem => mem.Length,
        _ => 0,
    };

    private static int Array32BodySize(AmqpArray array, int depth)
    {
        CheckDepth(depth);
        SizeOfArray(array, depth + 1, out _, out var payload);
        return checked(8 + payload);
    }

    private static int MapPayloadAny(object map, int depth) => map switch
    {
        IDictionary<string, object?> s => StringMapPayload(s, symbolKeys: false, depth),
        IDictionary<object, object?> o => ObjectMapPayload(o, depth),
        _ => LegacyMapPayload((IDictionary)map, depth),
    };

    private static int MapCount(object map) => map switch
    {
        IDictionary<string, object?> s => s.Count,
        IDictionary<object, object?> o => o.Count,
        _ => ((IDictionary)map).Count,
    };

    // ---------------------------------------------------------------- primitives

    public void WriteNull() => _buffer[_position++] = AmqpTypeCode.Null;

    public void WriteBoolean(bool value) =>
        _buffer[_position++] = value ? AmqpTypeCode.BooleanTrue : AmqpTypeCode.BooleanFalse;

    public void WriteUByte(byte value)
    {
        _buffer[_position] = AmqpTypeCode.UByte;
        _buffer[_position + 1] = value;
        _position += 2;
    }

    public void WriteByte(sbyte value)
    {
        _buffer[_position] = AmqpTypeCode.Byte;
        _buffer[_position + 1] = unchecked((byte)value);
        _position += 2;
    }

    public void WriteUShort(ushort value)
    {
        _buffer[_position] = AmqpTypeCode.UShort;
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.Slice(_position + 1), value);
        _position += 3;
    }

    public void WriteShort(short value)
    {
        _buffer[_position] = AmqpTypeCode.Short;
        BinaryPrimitives.WriteInt16BigEndian(_buffer.Slice(_position + 1), value);
        _position += 3;
    }

    public void WriteUInt(uint value)
    {
        if (value == 0)
        {
            _buffer[_position++] = AmqpTypeCode.UInt0;
        }
        else if (value <= byte.MaxValue)
        {
            _buffer[_position] = AmqpTypeCode.SmallUInt;
            _buffer[_position + 1] = (byte)value;
            _position += 2;
        }
        else
        {
            _buffer[_position] = AmqpTypeCode.UInt;
            BinaryPrimitives.WriteUInt32BigEndian(_buffer.Slice(_position + 1), value);
            _position += 5;
        }
    }

    public void WriteULong(ulong value)
    {
        if (value == 0)
        {
            _buffer[_position++] = AmqpTypeCode.ULong0;
        }
        else if (value <= byte.MaxValue)
        {
            _buffer[_position] = AmqpTypeCode.SmallULong;
            _buffer[_position + 1] = (byte)value;
            _position += 2;
        }
        else
        {
            _buffer[_position] = AmqpTypeCode.ULong;
            BinaryPrimitives.WriteUInt64BigEndian(_buffer.Slice(_position + 1), value);
            _position += 9;
        }
    }

    public void WriteInt(int value)
    {
        if (value is >= sbyte.MinValue and <= sbyte.MaxValue)
        {
            _buffer[_position] = AmqpTypeCode.SmallInt;
            _buffer[_position + 1] = unchecked((byte)(sbyte)value);
            _position += 2;
        }
        else
        {
            _buffer[_position] = AmqpTypeCode.Int;
            BinaryPrimitives.WriteInt32BigEndian(_buffer.Slice(_position + 1), value);
            _position += 5;
        }
    }

    public void WriteLong(long value)
    {
        if (value is >= sbyte.MinValue and <= sbyte.MaxValue)
        {
            _buffer[_position] = AmqpTypeCode.SmallLong;
            _buffer[_position + 1] = unchecked((byte)(sbyte)value);
            _position += 2;
        }
        else
        {
            _buffer[_position] = AmqpTypeCode.Long;
            BinaryPrimitives.WriteInt64BigEndian(_buffer.Slice(_position + 1), value);
            _position += 9;
        }
    }

    public void WriteFloat(float value)
    {
        _buffer[_position] = AmqpTypeCode.Float;
        BinaryPrimitives.WriteSingleBigEndian(_buffer.Slice(_position + 1), value);
        _position += 5;
    }

    public void WriteDouble(double value)
    {
        _buffer[_position] = AmqpTypeCode.Double;
        BinaryPrimitives.WriteDoubleBigEndian(_buffer.Slice(_position + 1), value);
        _position += 9;
    }

    public void WriteChar(System.Text.Rune value)
    {
        _buffer[_position] = AmqpTypeCode.Char;
        BinaryPrimitives.WriteInt32BigEndian(_buffer.Slice(_position + 1), value.Value);
        _position += 5;
    }

    public void WriteTimestamp(DateTimeOffset value)
    {
        _buffer[_position] = AmqpTypeCode.Timestamp;
        BinaryPrimitives.WriteInt64BigEndian(_buffer.Slice(_position + 1), value.ToUnixTimeMilliseconds());
        _position += 9;
    }

    public void WriteUuid(Guid value)
    {
        _buffer[_position] = AmqpTypeCode.Uuid;
        value.TryWriteBytes(_buffer.Slice(_position + 1, 16), bigEndian: true, out _);
        _position += 17;
    }

    public void WriteDecimal32(AmqpDecimal32 value)
    {
        _buffer[_position] = AmqpTypeCode.Decimal32;
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.Slice(_position + 1), value.Bits);
        _position += 5;
    }

    public void WriteDecimal64(AmqpDecimal64 value)
    {
        _buffer[_position] = AmqpTypeCode.Decimal64;
        BinaryPrimitives.WriteUInt64BigEndian(_buffer.Slice(_position + 1), value.Bits);
        _position += 9;
    }

    public void WriteDecimal128(AmqpDecimal128 value)
    {
        _buffer[_position] = AmqpTypeCode.Decimal128;
        BinaryPrimitives.WriteUInt64BigEndian(_buffer.Slice(_position + 1), value.High);
        BinaryPrimitives.WriteUInt64BigEndian(_buffer.Slice(_position + 9), value.Low);
        _position += 17;
    }

    public void WriteBinary(ReadOnlySpan<byte> value)
    {
        WriteVariableHeader(value.Length, AmqpTypeCode.Binary8, AmqpTypeCode.Binary32);
        value.CopyTo(_buffer.Slice(_position));
        _position += value.Length;
    }

    public void WriteString(string value)
    {
        // Up to 85 UTF-16 chars encode to at most 255 UTF-8 bytes: write directly, then patch the length.
        if (value.Length <= byte.MaxValue / 3)
        {
            var written = Encoding.UTF8.GetBytes(value, _buffer.Slice(_position + 2));
            _buffer[_position] = AmqpTypeCode.String8;
            _buffer[_position + 1] = (byte)written;
            _position += 2 + written;
            return;
        }

        var length = Encoding.UTF8.GetByteCount(value);
        WriteVariableHeader(length, AmqpTypeCode.String8, AmqpTypeCode.String32);
        _position += Encoding.UTF8.GetBytes(value, _buffer.Slice(_position));
    }

    public void WriteSymbol(string value)
    {
        WriteVariableHeader(value.Length, AmqpTypeCode.Symbol8, AmqpTypeCode.Symbol32);
        _position += Encoding.ASCII.GetBytes(value, _buffer.Slice(_position));
    }

    private void WriteVariableHeader(int length, byte code8, byte code32)
    {
        if (length <= byte.MaxValue)
        {
            _buffer[_position] = code8;
            _buffer[_position + 1] = (byte)length;
            _position += 2;
        }
        else
        {
            _buffer[_position] = code32;
            BinaryPrimitives.WriteInt32BigEndian(_buffer.Slice(_position + 1), length);
            _position += 5;
        }
    }

    /// <summary>Writes a list header (list0, list8 or list32) for <paramref name="count"/> elements totalling <paramref name="payload"/> bytes.</summary>
    public void WriteListHeader(int count, int payload) =>
        WriteCompoundHeader(count, payload, AmqpTypeCode.List8, AmqpTypeCode.List32, allowEmpty: true);

    /// <summary>Writes a map header (map8 or map32); <paramref name="count"/> counts keys and values.</summary>
    public void WriteMapHeader(int count, int payload) =>
        WriteCompoundHeader(count, payload, AmqpTypeCode.Map8, AmqpTypeCode.Map32, allowEmpty: false);

    private void WriteCompoundHeader(int count, int payload, byte code8, byte code32, bool allowEmpty)
    {
        if (count == 0 && allowEmpty)
        {
            _buffer[_position++] = AmqpTypeCode.List0;
        }
        else if (count <= byte.MaxValue && payload < byte.MaxValue)
        {
            _buffer[_position] = code8;
            _buffer[_position + 1] = (byte)(payload + 1);
            _buffer[_position + 2] = (byte)count;
            _position += 3;
        }
        else
        {
            WriteCompound32Header(code32, count, payload);
        }
    }

    private void WriteCompound32Header(byte code32, int count, int payload)
    {
        _buffer[_position] = code32;
        BinaryPrimitives.WriteInt32BigEndian(_buffer.Slice(_position + 1), checked(payload + 4));
        BinaryPrimitives.WriteInt32BigEndian(_buffer.Slice(_position + 5), count);
        _position += 9;
    }

    /// <summary>Writes the described-type prefix with a small ulong descriptor (e.g. a section code).</summary>
    public void WriteDescriptor(ulong code)
    {
        _buffer[_position++] = AmqpTypeCode.Described;
        WriteULong(code);
    }

    // ---------------------------------------------------------------- composite values

    /// <summary>Writes any supported value (see <see cref="SizeOf"/>).</summary>
    public void WriteValue(object? value, int depth = 0)
    {
        switch (value)
        {
            case null:
                WriteNull();
                break;
            case bool b:
                WriteBoolean(b);
                break;
            case string s:
                WriteString(s);
                break;
            case int i:
                WriteInt(i);
                break;
            case long l:
                WriteLong(l);
                break;
            case ulong ul:
                WriteULong(ul);
                break;
            case uint ui:
                WriteUInt(ui);
                break;
            case byte ub:
                WriteUByte(ub);
                break;
            case sbyte sb:
                WriteByte(sb);
                break;
            case ushort us:
                WriteUShort(us);
                break;
            case short sh:
                WriteShort(sh);
                break;
            case float f:
                WriteFloat(f);
                break;
            case double d:
                WriteDouble(d);
                break;
            case char c:
                WriteChar(new System.Text.Rune(c));
                break;
            case System.Text.Rune r:
                WriteChar(r);
                break;
            case DateTimeOffset ts:
                WriteTimestamp(ts);
                break;
            case Guid g:
                WriteUuid(g);
                break;
            case AmqpDecimal32 d32:
                WriteDecimal32(d32);
                break;
            case AmqpDecimal64 d64:
                WriteDecimal64(d64);
                break;
            case AmqpDecimal128 d128:
                WriteDecimal128(d128);
                break;
            case byte[] bytes:
                WriteBinary(bytes);
                break;
            case ReadOnlyMemory<byte> rom:
                WriteBinary(rom.Span);
                break;
            case Memory<byte> mem:
                WriteBinary(mem.Span);
                break;
            case AmqpSymbol sym:
                WriteSymbol(sym.Value);
                break;
            case AmqpDescribed described:
                CheckDepth(depth);
                _buffer[_position++] = AmqpTypeCode.Described;
                WriteValue(described.Descriptor, depth + 1);
                WriteValue(described.Value, depth + 1);
                break;
            case AmqpArray array:
                CheckDepth(depth);
                WriteArray(array, depth + 1);
                break;
            case IList<object?> list:
                CheckDepth(depth);
                WriteListHeader(list.Count, ListPayload(list, depth + 1));
                WriteListItems(list, depth + 1);
                break;
            case IDictionary<string, object?> stringMap:
                CheckDepth(depth);
                WriteMapHeader(stringMap.Count * 2, StringMapPayload(stringMap, symbolKeys: false, depth + 1));
                WriteStringMapEntries(stringMap, symbolKeys: false, depth + 1);
                break;
            case IDictionary<object, object?> objectMap:
                CheckDepth(depth);
                WriteMapHeader(objectMap.Count * 2, ObjectMapPayload(objectMap, depth + 1));
                WriteObjectMapEntries(objectMap, depth + 1);
                break;
            case IDictionary map:
                CheckDepth(depth);
                WriteMapHeader(map.Count * 2, LegacyMapPayload(map, depth + 1));
                WriteLegacyMapEntries(map, depth + 1);
                break;
            case IList legacyList:
                CheckDepth(depth);
                WriteListHeader(legacyList.Count, LegacyListPayload(legacyList, depth + 1));
                for (var i = 0; i < legacyList.Count; i++)
                {
                    WriteValue(legacyList[i], depth + 1);
                }

                break;
            default:
                throw new ArgumentException($"Values of type {value.GetType()} cannot be encoded as AMQP 1.0.", nameof(value));
        }
    }

    public void WriteListItems(IList<object?> list, int depth)
    {
        for (var i = 0; i < list.Count; i++)
        {
            WriteValue(list[i], depth);
        }
    }

    /// <summary>Writes the entries of a string-keyed map (keys as str, or sym when <paramref name="symbolKeys"/>).</summary>
    public void WriteStringMapEntries(IDictionary<string, object?> map, bool symbolKeys, int depth)
    {
        if (map is Dictionary<string, object?> dictionary)
        {
            foreach (var pair in dictionary)
            {
                WriteKey(pair.Key, symbolKeys);
                WriteValue(pair.Value, depth);
            }
        }
        else
        {
            foreach (var pair in map)
            {
                WriteKey(pair.Key, symbolKeys);
                WriteValue(pair.Value, depth);
            }
        }
    }

    private void WriteKey(string key, bool symbolKeys)
    {
        if (symbolKeys)
        {
            WriteSymbol(key);
        }
        else
        {
            WriteString(key);
        }
    }

    private void WriteObjectMapEntries(IDictionary<object, object?> map, int depth)
    {
        foreach (var pair in map)
        {
            WriteValue(pair.Key, depth);
            WriteValue(pair.Value, depth);
        }
    }

    private void WriteLegacyMapEntries(IDictionary map, int depth)
    {
        var enumerator = map.GetEnumerator();
        while (enumerator.MoveNext())
        {
            WriteValue(enumerator.Key, depth);
            WriteValue(enumerator.Value, depth);
        }
    }

    private void WriteArray(AmqpArray array, int depth)
    {
        SizeOfArray(array, depth, out var code, out var payload);
        var count = array.Count;
        if (count <= byte.MaxValue && payload < byte.MaxValue)
        {
            _buffer[_position] = AmqpTypeCode.Array8;
            _buffer[_position + 1] = (byte)(payload + 1);
            _buffer[_position + 2] = (byte)count;
            _position += 3;
        }
        else
        {
            WriteCompound32Header(AmqpTypeCode.Array32, count, payload);
        }

        WriteArrayBody(array, code, depth);
    }

    private void WriteArrayBody(AmqpArray array, byte code, int depth)
    {
        if (array.Descriptor is not null)
        {
            _buffer[_position++] = AmqpTypeCode.Described;
            WriteValue(array.Descriptor, depth);
        }

        _buffer[_position++] = code;
        var items = array.Items;
        for (var i = 0; i < items.Count; i++)
        {
            WriteArrayElement(code, items[i], depth);
        }
    }

    private void WriteArrayElement(byte code, object? item, int depth)
    {
        if (code == AmqpTypeCode.Null)
        {
            return;
        }

        if (code == AmqpTypeCode.Boolean)
        {
            _buffer[_position++] = (bool)item! ? (byte)1 : (byte)0;
            return;
        }

        // Array elements share the array's constructor: write the element with its own constructor one byte early
        // (over the previous byte, which is restored afterwards) so that its body lands where it belongs.
        var constructorPosition = _position - 1;
        var saved = _buffer[constructorPosition];
        _position = constructorPosition;
        switch (code)
        {
            case AmqpTypeCode.UInt:
                _buffer[_position] = code;
                BinaryPrimitives.WriteUInt32BigEndian(_buffer.Slice(_position + 1), (uint)item!);
                _position += 5;
                break;
            case AmqpTypeCode.ULong:
                _buffer[_position] = code;
                BinaryPrimitives.WriteUInt64BigEndian(_buffer.Slice(_position + 1), (ulong)item!);
                _position += 9;
                break;
            case AmqpTypeCode.Int:
                _buffer[_position] = code;
                BinaryPrimitives.WriteInt32BigEndian(_buffer.Slice(_position + 1), (int)item!);
                _position += 5;
                break;
            case AmqpTypeCode.Long:
                _buffer[_position] = code;
                BinaryPrimitives.WriteInt64BigEndian(_buffer.Slice(_position + 1), (long)item!);
                _position += 9;
                break;
            case AmqpTypeCode.String32:
            case AmqpTypeCode.Symbol32:
            case AmqpTypeCode.Binary32:
                WriteWideVariable(code, item!);
                break;
            case AmqpTypeCode.List32:
            {
                var list = (IList<object?>)item!;
                CheckDepth(depth);
                WriteCompound32Header(code, list.Count, ListPayload(list, depth + 1));
                WriteListItems(list, depth + 1);
                break;
            }

            case AmqpTypeCode.Map32:
            {
                CheckDepth(depth);
                WriteCompound32Header(code, MapCount(item!) * 2, MapPayloadAny(item!, depth + 1));
                switch (item)
                {
                    case IDictionary<string, object?> s:
                        WriteStringMapEntries(s, symbolKeys: false, depth + 1);
                        break;
                    case IDictionary<object, object?> o:
                        WriteObjectMapEntries(o, depth + 1);
                        break;
                    default:
                        WriteLegacyMapEntries((IDictionary)item!, depth + 1);
                        break;
                }

                break;
            }

            case AmqpTypeCode.Array32:
            {
                var inner = (AmqpArray)item!;
                CheckDepth(depth);
                SizeOfArray(inner, depth + 1, out var innerCode, out var innerPayload);
                WriteCompound32Header(code, inner.Count, innerPayload);
                WriteArrayBody(inner, innerCode, depth + 1);
                break;
            }

            default:
                // Every other element type has the same body as its standalone (smallest) encoding.
                WriteValue(item is char c ? new System.Text.Rune(c) : item, depth);
                break;
        }

        _buffer[constructorPosition] = saved;
    }

    private void WriteWideVariable(byte code, object item)
    {
        switch (item)
        {
            case string s:
                var length = Encoding.UTF8.GetByteCount(s);
                _buffer[_position] = code;
                BinaryPrimitives.WriteInt32BigEndian(_buffer.Slice(_position + 1), length);
                _position += 5;
                _position += Encoding.UTF8.GetBytes(s, _buffer.Slice(_position));
                break;
            case AmqpSymbol sym:
                _buffer[_position] = code;
                BinaryPrimitives.WriteInt32BigEndian(_buffer.Slice(_position + 1), sym.Value.Length);
                _position += 5;
                _position += Encoding.ASCII.GetBytes(sym.Value, _buffer.Slice(_position));
                break;
            default:
                ReadOnlySpan<byte> bytes = item switch
                {
                    byte[] b => b,
                    ReadOnlyMemory<byte> rom => rom.Span,
                    _ => ((Memory<byte>)item).Span,
                };
                _buffer[_position] = code;
                BinaryPrimitives.WriteInt32BigEndian(_buffer.Slice(_position + 1), bytes.Length);
                bytes.CopyTo(_buffer.Slice(_position + 5));
                _position += 5 + bytes.Length;
                break;
        }
    }
}
