namespace Streams.Client.Amqp;

/// <summary>
/// Encodes and decodes <see cref="Message"/> as an AMQP 1.0 bare message (header, annotations, properties,
/// application properties, body and footer sections), the format every stream client and the broker understand.
/// </summary>
internal static class AmqpMessageCodec
{
    // ---------------------------------------------------------------- data-only fast path

    /// <summary>The encoded size of a message made of one data section of <paramref name="bodyLength"/> bytes.</summary>
    public static int GetDataOnlySize(int bodyLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bodyLength);
        return checked(3 + AmqpWriter.SizeOfVariable(bodyLength));
    }

    /// <summary>Encodes a message made of one data section holding <paramref name="body"/>. Returns the bytes written.</summary>
    public static int EncodeDataOnly(ReadOnlySpan<byte> body, Span<byte> destination)
    {
        var size = GetDataOnlySize(body.Length);
        if (destination.Length < size)
        {
            throw new ArgumentException($"The destination holds {destination.Length} bytes; {size} are needed.", nameof(destination));
        }

        var writer = new AmqpWriter(destination);
        writer.WriteDescriptor(AmqpTypeCode.DataSection);
        writer.WriteBinary(body);
        return writer.Position;
    }

    // ---------------------------------------------------------------- encode

    /// <summary>The exact number of bytes <see cref="Encode"/> writes for <paramref name="message"/>.</summary>
    /// <exception cref="ArgumentException">A value cannot be encoded (unsupported type, non-ASCII symbol, nesting too deep).</exception>
    public static int GetSize(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var size = 0;
        if (message.Header is { } header)
        {
            size += 3 + HeaderSize(header, out _, out _);
        }

        if (message.DeliveryAnnotations is { } deliveryAnnotations)
        {
            size = checked(size + 3 + AnnotationsSize(deliveryAnnotations, out _));
        }

        if (message.MessageAnnotations is { } messageAnnotations)
        {
            size = checked(size + 3 + AnnotationsSize(messageAnnotations, out _));
        }

        if (message.Properties is { } properties)
        {
            size = checked(size + 3 + PropertiesSize(properties, out _, out _));
        }

        if (message.ApplicationProperties is { } applicationProperties)
        {
            size = checked(size + 3 + ApplicationPropertiesSize(applicationProperties, out _));
        }

        size = checked(size + BodySize(message));
        if (message.Footer is { } footer)
        {
            size = checked(size + 3 + AnnotationsSize(footer, out _));
        }

        return size;
    }

    /// <summary>
    /// Encodes <paramref name="message"/> into <paramref name="destination"/>, which must hold at least
    /// <see cref="GetSize"/> bytes. Returns the number of bytes written. Allocates nothing.
    /// </summary>
    public static int Encode(Message message, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(message);
        var writer = new AmqpWriter(destination);
        if (message.Header is { } header)
        {
            var size = HeaderSize(header, out var count, out var payload);
            EnsureRoom(destination, writer.Position, 3 + size);
            writer.WriteDescriptor(AmqpTypeCode.HeaderSection);
            writer.WriteListHeader(count, payload);
            WriteHeaderFields(ref writer, header, count);
        }

        if (message.DeliveryAnnotations is { } deliveryAnnotations)
        {
            WriteAnnotations(ref writer, destination, AmqpTypeCode.DeliveryAnnotationsSection, deliveryAnnotations);
        }

        if (message.MessageAnnotations is { } messageAnnotations)
        {
            WriteAnnotations(ref writer, destination, AmqpTypeCode.MessageAnnotationsSection, messageAnnotations);
        }

        if (message.Properties is { } properties)
        {
            var size = PropertiesSize(properties, out var count, out var payload);
            EnsureRoom(destination, writer.Position, 3 + size);
            writer.WriteDescriptor(AmqpTypeCode.PropertiesSection);
            writer.WriteListHeader(count, payload);
            WritePropertyFields(ref writer, properties, count);
        }

        if (message.ApplicationProperties is { } applicationProperties)
        {
            var size = ApplicationPropertiesSize(applicationProperties, out var payload);
            EnsureRoom(destination, writer.Position, 3 + size);
            writer.WriteDescriptor(AmqpTypeCode.ApplicationPropertiesSection);
            writer.WriteMapHeader(applicationProperties.Count * 2, payload);
            writer.WriteStringMapEntries(applicationProperties, symbolKeys: false, depth: 1);
        }

        EnsureRoom(destination, writer.Position, BodySize(message));
        WriteBody(ref writer, message);

        if (message.Footer is { } footer)
        {
            WriteAnnotations(ref writer, destination, AmqpTypeCode.FooterSection, footer);
        }

        return writer.Position;
    }

    private static void EnsureRoom(Span<byte> destination, int position, int needed)
    {
        if (destination.Length - position < needed)
        {
            throw new ArgumentException(
                $"The destination holds {destination.Length} bytes, too few for the message; use GetSize.", nameof(destination));
        }
    }

    private static int HeaderSize(MessageHeader header, out int count, out int payload)
    {
        count = header.DeliveryCount != 0 ? 5
            : header.FirstAcquirer ? 4
            : header.Ttl is not null ? 3
            : header.Priority != 4 ? 2
            : header.Durable ? 1
            : 0;
        payload = 0;
        if (count > 0)
        {
            payload += 1; // durable: true, or null for the default false
        }

        if (count > 1)
        {
            payload += header.Priority != 4 ? 2 : 1;
        }

        if (count > 2)
        {
            payload += header.Ttl is { } ttl ? AmqpWriter.SizeOfUInt(ttl) : 1;
        }

        if (count > 3)
        {
            payload += 1;
        }

        if (count > 4)
        {
            payload += AmqpWriter.SizeOfUInt(header.DeliveryCount);
        }

        return AmqpWriter.SizeOfCompound(count, payload, isList: true);
    }

    private static void WriteHeaderFields(ref AmqpWriter writer, MessageHeader header, int count)
    {
        if (count > 0)
        {
            WriteFlag(ref writer, header.Durable);
        }

        if (count > 1)
        {
            if (header.Priority != 4)
            {
                writer.WriteUByte(header.Priority);
            }
            else
            {
                writer.WriteNull();
            }
        }

        if (count > 2)
        {
            WriteNullableUInt(ref writer, header.Ttl);
        }

        if (count > 3)
        {
            WriteFlag(ref writer, header.FirstAcquirer);
        }

        if (count > 4)
        {
            writer.WriteUInt(header.DeliveryCount);
        }
    }

    private static void WriteFlag(ref AmqpWriter writer, bool value)
    {
        if (value)
        {
            writer.WriteBoolean(true);
        }
        else
        {
            writer.WriteNull();
        }
    }

    private static void WriteNullableUInt(ref AmqpWriter writer, uint? value)
    {
        if (value is { } v)
        {
            writer.WriteUInt(v);
        }
        else
        {
            writer.WriteNull();
        }
    }

    private static int AnnotationsSize(IDictionary<string, object?> annotations, out int payload)
    {
        payload = AmqpWriter.StringMapPayload(annotations, symbolKeys: true, depth: 1);
        return AmqpWriter.SizeOfCompound(annotations.Count * 2, payload, isList: false);
    }

    private static void WriteAnnotations(
        ref AmqpWriter writer, Span<byte> destination, ulong section, IDictionary<string, object?> annotations)
    {
        var size = AnnotationsSize(annotations, out var payload);
        EnsureRoom(destination, writer.Position, 3 + size);
        writer.WriteDescriptor(section);
        writer.WriteMapHeader(annotations.Count * 2, payload);
        writer.WriteStringMapEntries(annotations, symbolKeys: true, depth: 1);
    }

    private static int ApplicationPropertiesSize(IDictionary<string, object?> properties, out int payload)
    {
        payload = AmqpWriter.StringMapPayload(properties, symbolKeys: false, depth: 1);
        return AmqpWriter.SizeOfCompound(properties.Count * 2, payload, isList: false);
    }

    private static int PropertiesFieldCount(MessageProperties p) =>
        p.ReplyToGroupId is not null ? 13
        : p.GroupSequence is not null ? 12
        : p.GroupId is not null ? 11
        : p.CreationTime is not null ? 10
        : p.AbsoluteExpiryTime is not null ? 9
        : p.ContentEncoding is not null ? 8
        : p.ContentType is not null ? 7
        : p.CorrelationId is not null ? 6
        : p.ReplyTo is not null ? 5
        : p.Subject is not null ? 4
        : p.To is not null ? 3
        : p.UserId is not null ? 2
        : p.MessageId is not null ? 1
        : 0;

    private static int PropertiesSize(MessageProperties p, out int count, out int payload)
    {
        count = PropertiesFieldCount(p);
        var total = 0;
        for (var i = 0; i < count; i++)
        {
            total = checked(total + PropertyFieldSize(p, i));
        }

        payload = total;
        return AmqpWriter.SizeOfCompound(count, total, isList: true);
    }

    private static int PropertyFieldSize(MessageProperties p, int index) => index switch
    {
        0 => IdSize(p.MessageId),
        1 => p.UserId is { } userId ? AmqpWriter.SizeOfVariable(userId.Length) : 1,
        2 => NullableStringSize(p.To),
        3 => NullableStringSize(p.Subject),
        4 => NullableStringSize(p.ReplyTo),
        5 => IdSize(p.CorrelationId),
        6 => p.ContentType is { } contentType ? AmqpWriter.SizeOfSymbol(contentType) : 1,
        7 => p.ContentEncoding is { } contentEncoding ? AmqpWriter.SizeOfSymbol(contentEncoding) : 1,
        8 => p.AbsoluteExpiryTime is null ? 1 : 9,
        9 => p.CreationTime is null ? 1 : 9,
        10 => NullableStringSize(p.GroupId),
        11 => p.GroupSequence is { } sequence ? AmqpWriter.SizeOfUInt(sequence) : 1,
        _ => NullableStringSize(p.ReplyToGroupId),
    };

    private static int NullableStringSize(string? value) => value is null ? 1 : AmqpWriter.SizeOfString(value);

    private static int IdSize(object? id) => id switch
    {
        null or ulong or Guid or string or byte[] or ReadOnlyMemory<byte> => AmqpWriter.SizeOf(id),
        _ => throw new ArgumentException(
            $"A message id or correlation id must be a ulong, Guid, byte[], ReadOnlyMemory<byte> or string, not {id.GetType()}.",
            nameof(id)),
    };

    private static void WritePropertyFields(ref AmqpWriter writer, MessageProperties p, int count)
    {
        for (var i = 0; i < count; i++)
        {
            switch (i)
            {
                case 0:
                    writer.WriteValue(p.MessageId);
                    break;
                case 1:
                    if (p.UserId is { } userId)
                    {
                        writer.WriteBinary(userId);
                    }
                    else
                    {
                        writer.WriteNull();
                    }

                    break;
                case 2:
                    WriteNullableString(ref writer, p.To);
                    break;
                case 3:
                    WriteNullableString(ref writer, p.Subject);
                    break;
                case 4:
                    WriteNullableString(ref writer, p.ReplyTo);
                    break;
                case 5:
                    writer.WriteValue(p.CorrelationId);
                    break;
                case 6:
                    WriteNullableSymbol(ref writer, p.ContentType);
                    break;
                case 7:
                    WriteNullableSymbol(ref writer, p.ContentEncoding);
                    break;
                case 8:
                    WriteNullableTimestamp(ref writer, p.AbsoluteExpiryTime);
                    break;
                case 9:
                    WriteNullableTimestamp(ref writer, p.CreationTime);
                    break;
                case 10:
                    WriteNullableString(ref writer, p.GroupId);
                    break;
                case 11:
                    WriteNullableUInt(ref writer, p.GroupSequence);
                    break;
                default:
                    WriteNullableString(ref writer, p.ReplyToGroupId);
                    break;
            }
        }
    }

    private static void WriteNullableString(ref AmqpWriter writer, string? value)
    {
        if (value is null)
        {
            writer.WriteNull();
        }
        else
        {
            writer.WriteString(value);
        }
    }

    private static void WriteNullableSymbol(ref AmqpWriter writer, string? value)
    {
        if (value is null)
        {
            writer.WriteNull();
        }
        else
        {
            writer.WriteSymbol(value);
        }
    }

    private static void WriteNullableTimestamp(ref AmqpWriter writer, DateTimeOffset? value)
    {
        if (value is { } timestamp)
        {
            writer.WriteTimestamp(timestamp);
        }
        else
        {
            writer.WriteNull();
        }
    }

    private static int BodySize(Message message)
    {
        switch (message.BodyKind)
        {
            case MessageBodyKind.Data:
                if (message.RawDataSections is { } sections)
                {
                    var total = 0;
                    for (var i = 0; i < sections.Count; i++)
                    {
                        total = checked(total + 3 + AmqpWriter.SizeOfVariable(sections[i].Length));
                    }

                    return total;
                }

                return checked(3 + AmqpWriter.SizeOfVariable(message.SingleDataSection.Length));
            case MessageBodyKind.AmqpValue:
                return checked(3 + AmqpWriter.SizeOf(message.RawAmqpValue, depth: 1));
            case MessageBodyKind.AmqpSequence:
                if (message.RawSequenceSections is { } sequences)
                {
                    var total = 0;
                    for (var i = 0; i < sequences.Count; i++)
                    {
                        total = checked(total + 3 + SequenceSize(sequences[i], out _));
                    }

                    return total;
                }

                return checked(3 + SequenceSize(message.SingleSequence!, out _));
            default:
                return 0;
        }
    }

    private static int SequenceSize(IList<object?> sequence, out int payload)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        payload = AmqpWriter.ListPayload(sequence, depth: 2);
        return AmqpWriter.SizeOfCompound(sequence.Count, payload, isList: true);
    }

    private static void WriteBody(ref AmqpWriter writer, Message message)
    {
        switch (message.BodyKind)
        {
            case MessageBodyKind.Data:
                if (message.RawDataSections is { } sections)
                {
                    for (var i = 0; i < sections.Count; i++)
                    {
                        writer.WriteDescriptor(AmqpTypeCode.DataSection);
                        writer.WriteBinary(sections[i].Span);
                    }
                }
                else
                {
                    writer.WriteDescriptor(AmqpTypeCode.DataSection);
                    writer.WriteBinary(message.SingleDataSection.Span);
                }

                break;
            case MessageBodyKind.AmqpValue:
                writer.WriteDescriptor(AmqpTypeCode.AmqpValueSection);
                writer.WriteValue(message.RawAmqpValue, depth: 1);
                break;
            case MessageBodyKind.AmqpSequence:
                if (message.RawSequenceSections is { } sequences)
                {
                    for (var i = 0; i < sequences.Count; i++)
                    {
                        WriteSequence(ref writer, sequences[i]);
                    }
                }
                else
                {
                    WriteSequence(ref writer, message.SingleSequence!);
                }

                break;
        }
    }

    private static void WriteSequence(ref AmqpWriter writer, IList<object?> sequence)
    {
        SequenceSize(sequence, out var payload);
        writer.WriteDescriptor(AmqpTypeCode.AmqpSequenceSection);
        writer.WriteListHeader(sequence.Count, payload);
        writer.WriteListItems(sequence, depth: 2);
    }

    // ---------------------------------------------------------------- decode

    /// <summary>Decodes a message. The returned message's data-section bodies alias <paramref name="encoded"/>
    /// (no copy); call <see cref="Message.CopyBody"/> or use <see cref="DecodeCopy"/> to detach them.</summary>
    /// <exception cref="AmqpDecodeException">The bytes are not a valid AMQP 1.0 message.</exception>
    public static Message Decode(ReadOnlyMemory<byte> encoded)
    {
        var message = new Message();
        var reader = new AmqpReader(encoded.Span);
        var seen = 0u;
        ReadOnlyMemory<byte> firstData = default;
        var hasData = false;
        List<ReadOnlyMemory<byte>>? moreData = null;
        List<object?>? firstSequence = null;
        List<IList<object?>>? moreSequences = null;
        var bodyKind = MessageBodyKind.None;
        object? amqpValue = null;

        while (!reader.IsAtEnd)
        {
            var sectionStart = reader.Position;
            var section = ReadSectionCode(ref reader);
            var bit = 1u << (int)(section - AmqpTypeCode.HeaderSection);
            var repeatable = section is AmqpTypeCode.DataSection or AmqpTypeCode.AmqpSequenceSection;
            if ((seen & bit) != 0 && !repeatable)
            {
                throw new AmqpDecodeException($"Section 0x{section:x2} appears twice", sectionStart);
            }

            seen |= bit;
            var kind = section switch
            {
                AmqpTypeCode.DataSection => MessageBodyKind.Data,
                AmqpTypeCode.AmqpSequenceSection => MessageBodyKind.AmqpSequence,
                AmqpTypeCode.AmqpValueSection => MessageBodyKind.AmqpValue,
                _ => MessageBodyKind.None,
            };
            if (kind != MessageBodyKind.None)
            {
                if (bodyKind != MessageBodyKind.None && bodyKind != kind)
                {
                    throw new AmqpDecodeException($"The body mixes {bodyKind} and {kind} sections", sectionStart);
                }

                bodyKind = kind;
            }

            switch (section)
            {
                case AmqpTypeCode.HeaderSection:
                    message.Header = ReadHeader(ref reader);
                    break;
                case AmqpTypeCode.DeliveryAnnotationsSection:
                    message.DeliveryAnnotations = ReadStringKeyedMap(ref reader, allowULongKeys: true);
                    break;
                case AmqpTypeCode.MessageAnnotationsSection:
                    message.MessageAnnotations = ReadStringKeyedMap(ref reader, allowULongKeys: true);
                    break;
                case AmqpTypeCode.PropertiesSection:
                    message.Properties = ReadProperties(ref reader);
                    break;
                case AmqpTypeCode.ApplicationPropertiesSection:
                    message.ApplicationProperties = ReadStringKeyedMap(ref reader, allowULongKeys: false);
                    break;
                case AmqpTypeCode.DataSection:
                {
                    var (offset, length) = reader.ReadBinaryRange();
                    var data = encoded.Slice(offset, length);
                    if (!hasData)
                    {
                        firstData = data;
                        hasData = true;
                    }
                    else
                    {
                        (moreData ??= [firstData]).Add(data);
                    }

                    break;
                }

                case AmqpTypeCode.AmqpSequenceSection:
                {
                    var at = reader.Position;
                    var sequence = reader.ReadValue(depth: 1) as List<object?>
                        ?? throw new AmqpDecodeException("An amqp-sequence section must hold a list", at);
                    if (firstSequence is null)
                    {
                        firstSequence = sequence;
                    }
                    else
                    {
                        (moreSequences ??= [firstSequence]).Add(sequence);
                    }

                    break;
                }

                case AmqpTypeCode.AmqpValueSection:
                    amqpValue = reader.ReadValue(depth: 1);
                    break;
                default: // footer
                    message.Footer = ReadStringKeyedMap(ref reader, allowULongKeys: true);
                    break;
            }
        }

        switch (bodyKind)
        {
            case MessageBodyKind.Data:
                if (moreData is not null)
                {
                    message.DataSections = moreData;
                }
                else
                {
                    message.Body = firstData;
                }

                break;
            case MessageBodyKind.AmqpValue:
                message.AmqpValue = amqpValue;
                break;
            case MessageBodyKind.AmqpSequence:
                if (moreSequences is not null)
                {
                    message.AmqpSequenceSections = moreSequences;
                }
                else
                {
                    message.AmqpSequence = firstSequence;
                }

                break;
        }

        return message;
    }

    /// <summary>Decodes a message whose bodies are copies, independent of <paramref name="encoded"/>.</summary>
    /// <exception cref="AmqpDecodeException">The bytes are not a valid AMQP 1.0 message.</exception>
    public static Message DecodeCopy(ReadOnlySpan<byte> encoded) => Decode(new ReadOnlyMemory<byte>(encoded.ToArray()));

    private static ulong ReadSectionCode(ref AmqpReader reader)
    {
        var at = reader.Position;
        if (reader.ReadRawByte() != AmqpTypeCode.Described)
        {
            throw new AmqpDecodeException("Expected a message section (a described value)", at);
        }

        var descriptorAt = reader.Position;
        var code = reader.PeekRawByte();
        ulong section;
        if (code is AmqpTypeCode.Symbol8 or AmqpTypeCode.Symbol32)
        {
            var name = reader.ReadNullableStringOrSymbol();
            section = name switch
            {
                "amqp:header:list" => AmqpTypeCode.HeaderSection,
                "amqp:delivery-annotations:map" => AmqpTypeCode.DeliveryAnnotationsSection,
                "amqp:message-annotations:map" => AmqpTypeCode.MessageAnnotationsSection,
                "amqp:properties:list" => AmqpTypeCode.PropertiesSection,
                "amqp:application-properties:map" => AmqpTypeCode.ApplicationPropertiesSection,
                "amqp:data:binary" => AmqpTypeCode.DataSection,
                "amqp:amqp-sequence:list" => AmqpTypeCode.AmqpSequenceSection,
                "amqp:amqp-value:*" => AmqpTypeCode.AmqpValueSection,
                "amqp:footer:map" => AmqpTypeCode.FooterSection,
                _ => throw new AmqpDecodeException($"Unknown message section descriptor '{name}'", descriptorAt),
            };
        }
        else
        {
            section = reader.ReadULong();
            if (section is < AmqpTypeCode.HeaderSection or > AmqpTypeCode.FooterSection)
            {
                throw new AmqpDecodeException($"Unknown message section descriptor 0x{section:x}", descriptorAt);
            }
        }

        return section;
    }

    private static MessageHeader ReadHeader(ref AmqpReader reader)
    {
        var header = new MessageHeader();
        var (count, end) = reader.ReadListHeader();
        for (var i = 0; i < count; i++)
        {
            switch (i)
            {
                case 0:
                    header.Durable = reader.ReadNullableBoolean() ?? false;
                    break;
                case 1:
                    header.Priority = reader.ReadNullableUByte() ?? 4;
                    break;
                case 2:
                    header.Ttl = reader.ReadNullableUInt();
                    break;
                case 3:
                    header.FirstAcquirer = reader.ReadNullableBoolean() ?? false;
                    break;
                case 4:
                    header.DeliveryCount = reader.ReadNullableUInt() ?? 0;
                    break;
                default:
                    reader.SkipValue(depth: 2);
                    break;
            }
        }

        reader.ExpectEnd(end);
        return header;
    }

    private static MessageProperties ReadProperties(ref AmqpReader reader)
    {
        var p = new MessageProperties();
        var (count, end) = reader.ReadListHeader();
        for (var i = 0; i < count; i++)
        {
            switch (i)
            {
                case 0:
                    p.MessageId = reader.ReadValue(depth: 2);
                    break;
                case 1:
                    p.UserId = reader.ReadNullableBinary();
                    break;
                case 2:
                    p.To = reader.ReadNullableStringOrSymbol();
                    break;
                case 3:
                    p.Subject = reader.ReadNullableStringOrSymbol();
                    break;
                case 4:
                    p.ReplyTo = reader.ReadNullableStringOrSymbol();
                    break;
                case 5:
                    p.CorrelationId = reader.ReadValue(depth: 2);
                    break;
                case 6:
                    p.ContentType = reader.ReadNullableStringOrSymbol();
                    break;
                case 7:
                    p.ContentEncoding = reader.ReadNullableStringOrSymbol();
                    break;
                case 8:
                    p.AbsoluteExpiryTime = reader.ReadNullableTimestamp();
                    break;
                case 9:
                    p.CreationTime = reader.ReadNullableTimestamp();
                    break;
                case 10:
                    p.GroupId = reader.ReadNullableStringOrSymbol();
                    break;
                case 11:
                    p.GroupSequence = reader.ReadNullableUInt();
                    break;
                case 12:
                    p.ReplyToGroupId = reader.ReadNullableStringOrSymbol();
                    break;
                default:
                    reader.SkipValue(depth: 2);
                    break;
            }
        }

        reader.ExpectEnd(end);
        return p;
    }

    private static Dictionary<string, object?> ReadStringKeyedMap(ref AmqpReader reader, bool allowULongKeys)
    {
        var (count, end) = reader.ReadMapHeader();
        var map = new Dictionary<string, object?>(count / 2, StringComparer.Ordinal);
        for (var i = 0; i < count; i += 2)
        {
            var at = reader.Position;
            var key = reader.ReadKey(allowULongKeys);
            var value = reader.ReadValue(depth: 2);
            if (!map.TryAdd(key, value))
            {
                throw new AmqpDecodeException($"Duplicate key '{key}'", at);
            }
        }

        reader.ExpectEnd(end);
        return map;
    }
}
