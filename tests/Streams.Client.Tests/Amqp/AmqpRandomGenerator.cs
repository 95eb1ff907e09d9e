using System.Text;

namespace Streams.Client.Tests.Amqp;

/// <summary>Builds random AMQP values and messages from a seeded <see cref="Random"/>.</summary>
internal sealed class AmqpRandomGenerator(int seed)
{
    private readonly Random _random = new(seed);

    public Random Random => _random;

    public Message NextMessage()
    {
        var message = new Message();
        switch (_random.Next(6))
        {
            case 0:
                break;
            case 1:
                message.Body = NextBytes(_random.Next(4) == 0 ? 600 : 40);
                break;
            case 2:
                message.DataSections = [NextBytes(10), NextBytes(300), NextBytes(0)];
                break;
            case 3:
                message.AmqpValue = NextValue(0);
                break;
            case 4:
                message.AmqpSequence = NextList(1);
                break;
            default:
                message.AmqpSequenceSections = [NextList(1), NextList(1)];
                break;
        }

        if (Chance())
        {
            message.Header = new MessageHeader
            {
                Durable = Chance(),
                Priority = Chance() ? (byte)4 : (byte)_random.Next(256),
                Ttl = Chance() ? null : NextUInt(),
                FirstAcquirer = Chance(),
                DeliveryCount = Chance() ? 0 : NextUInt(),
            };
        }

        if (Chance())
        {
            message.DeliveryAnnotations = NextStringMap(symbolic: true);
        }

        if (Chance())
        {
            message.MessageAnnotations = NextStringMap(symbolic: true);
        }

        if (Chance())
        {
            message.Properties = new MessageProperties
            {
                MessageId = Chance() ? NextId() : null,
                UserId = Chance() ? NextBytes(8) : null,
                To = NextOptionalString(),
                Subject = NextOptionalString(),
                ReplyTo = NextOptionalString(),
                CorrelationId = Chance() ? NextId() : null,
                ContentType = Chance() ? NextSymbolText() : null,
                ContentEncoding = Chance() ? NextSymbolText() : null,
                AbsoluteExpiryTime = Chance() ? NextTimestamp() : null,
                CreationTime = Chance() ? NextTimestamp() : null,
                GroupId = NextOptionalString(),
                GroupSequence = Chance() ? NextUInt() : null,
                ReplyToGroupId = NextOptionalString(),
            };
        }

        if (Chance())
        {
            message.ApplicationProperties = NextStringMap(symbolic: false);
        }

        if (_random.Next(4) == 0)
        {
            message.Footer = NextStringMap(symbolic: true);
        }

        return message;
    }

    private bool Chance() => _random.Next(2) == 0;

    private uint NextUInt() => _random.Next(3) switch
    {
        0 => 0u,
        1 => (uint)_random.Next(256),
        _ => (uint)_random.NextInt64(uint.MaxValue + 1L),
    };

    private object NextId() => _random.Next(5) switch
    {
        0 => (ulong)_random.NextInt64(),
        1 => Guid.NewGuid(),
        2 => NextBytes(16),
        3 => new ReadOnlyMemory<byte>(NextBytes(3)),
        _ => NextString(),
    };

    private byte[] NextBytes(int maxLength)
    {
        var bytes = new byte[_random.Next(maxLength + 1)];
        _random.NextBytes(bytes);
        return bytes;
    }

    private string? NextOptionalString() => Chance() ? NextString() : null;

    private string NextString()
    {
        var length = _random.Next(5) == 0 ? _random.Next(300) : _random.Next(12);
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            builder.Append(_random.Next(10) switch
            {
                0 => 'é',
                1 => '€',
                2 => "😀",
                _ => (char)_random.Next('a', 'z' + 1),
            });
        }

        return builder.ToString();
    }

    private string NextSymbolText()
    {
        var length = _random.Next(5) == 0 ? _random.Next(260, 300) : _random.Next(1, 12);
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = (char)_random.Next(0x20, 0x7f);
        }

        return new string(chars);
    }

    private DateTimeOffset NextTimestamp() =>
        DateTimeOffset.FromUnixTimeMilliseconds(_random.NextInt64(-62135596800000, 253402300799999));

    private Dictionary<string, object?> NextStringMap(bool symbolic)
    {
        var map = new Dictionary<string, object?>();
        var count = _random.Next(5) == 0 ? _random.Next(100) : _random.Next(4);
        for (var i = 0; i < count; i++)
        {
            var key = symbolic ? NextSymbolText() : NextString();
            map[key] = NextValue(2);
        }

        return map;
    }

    private List<object?> NextList(int depth)
    {
        var count = _random.Next(8) == 0 ? _random.Next(300) : _random.Next(5);
        var list = new List<object?>(count);
        for (var i = 0; i < count; i++)
        {
            list.Add(NextValue(depth + 1));
        }

        return list;
    }

    public object? NextValue(int depth)
    {
        var kinds = depth > 4 ? 22 : 27;
        switch (_random.Next(kinds))
        {
            case 0: return null;
            case 1: return Chance();
            case 2: return (byte)_random.Next(256);
            case 3: return (sbyte)_random.Next(-128, 128);
            case 4: return (ushort)_random.Next(65536);
            case 5: return (short)_random.Next(-32768, 32768);
            case 6: return NextUInt();
            case 7: return _random.Next(3) == 0 ? (ulong)_random.Next(256) : (ulong)_random.NextInt64() * 3;
            case 8: return _random.Next(2) == 0 ? _random.Next(-200, 200) : _random.Next(int.MinValue, int.MaxValue);
            case 9: return _random.Next(2) == 0 ? _random.NextInt64(-200, 200) : _random.NextInt64(long.MinValue, long.MaxValue);
            case 10: return (float)_random.NextDouble();
            case 11: return _random.NextDouble() * 1e10;
            case 12: return new Rune(_random.Next(2) == 0 ? _random.Next(0x20, 0xd000) : _random.Next(0x10000, 0x110000));
            case 13: return NextTimestamp();
            case 14: return Guid.NewGuid();
            case 15: return new AmqpDecimal32((uint)_random.NextInt64(uint.MaxValue));
            case 16: return new AmqpDecimal64((ulong)_random.NextInt64());
            case 17: return new AmqpDecimal128((ulong)_random.NextInt64(), (ulong)_random.NextInt64());
            case 18: return NextBytes(_random.Next(4) == 0 ? 400 : 10);
            case 19: return NextString();
            case 20: return new AmqpSymbol(NextSymbolText());
            case 21: return _random.Next(2) == 0 ? double.NaN : float.NegativeInfinity;
            case 22: return NextList(depth);
            case 23:
            {
                var map = new Dictionary<object, object?>();
                var count = _random.Next(6);
                for (var i = 0; i < count; i++)
                {
                    map[Chance() ? new AmqpSymbol(NextSymbolText()) : (object)_random.NextInt64()] = NextValue(depth + 1);
                }

                return map;
            }

            case 24: return NextArray(depth);
            case 25: return new AmqpDescribed(Chance() ? (ulong)_random.Next(1000) : new AmqpSymbol(NextSymbolText()), NextValue(depth + 1));
            default: return new AmqpArray([new AmqpArray([1, _random.Next()]), new AmqpArray([_random.Next()])]);
        }
    }

    private AmqpArray NextArray(int depth)
    {
        var count = _random.Next(6) == 0 ? _random.Next(300) : _random.Next(5);
        var kind = _random.Next(12);
        var items = new List<object?>(count);
        for (var i = 0; i < count; i++)
        {
            items.Add(kind switch
            {
                0 => Chance(),
                1 => (byte)_random.Next(256),
                2 => NextUInt(),
                3 => _random.Next(int.MinValue, int.MaxValue),
                4 => _random.NextInt64(),
                5 => (ulong)_random.NextInt64(),
                6 => NextString(),
                7 => new AmqpSymbol(NextSymbolText()),
                8 => NextBytes(5),
                9 => Guid.NewGuid(),
                10 => _random.NextDouble(),
                _ => new List<object?> { NextValue(depth + 2) },
            });
        }

        return new AmqpArray(items, _random.Next(5) == 0 ? 42ul : null);
    }
}
