namespace Streams.Client;

/// <summary>The kind of body an AMQP 1.0 message carries.</summary>
public enum MessageBodyKind
{
    /// <summary>No body section.</summary>
    None = 0,

    /// <summary>One or more <c>data</c> sections (opaque bytes); the common case.</summary>
    Data = 1,

    /// <summary>One <c>amqp-value</c> section holding any AMQP value.</summary>
    AmqpValue = 2,

    /// <summary>One or more <c>amqp-sequence</c> sections, each a list of AMQP values.</summary>
    AmqpSequence = 3,
}

/// <summary>
/// An AMQP 1.0 message as stored in a stream: optional header, annotations, properties, application properties,
/// a body (data sections, an amqp-value or amqp-sequence sections) and an optional footer.
/// </summary>
/// <remarks>
/// Setting one of the body properties (<see cref="Body"/>, <see cref="DataSections"/>, <see cref="AmqpValue"/>,
/// <see cref="AmqpSequence"/>, <see cref="AmqpSequenceSections"/>) replaces any other body.
/// A decoded message's <see cref="Body"/> may alias the buffer it was decoded from; see <see cref="CopyBody"/>.
/// </remarks>
public sealed class Message
{
    private ReadOnlyMemory<byte> _body;
    private IList<ReadOnlyMemory<byte>>? _dataSections;
    private object? _amqpValue;
    private IList<object?>? _amqpSequence;
    private IList<IList<object?>>? _amqpSequenceSections;

    /// <summary>Creates a message with no body.</summary>
    public Message()
    {
    }

    /// <summary>Creates a message whose body is one data section.</summary>
    /// <param name="body">The body bytes (not copied).</param>
    public Message(ReadOnlyMemory<byte> body)
    {
        _body = body;
        BodyKind = MessageBodyKind.Data;
    }

    /// <summary>The kind of body the message carries.</summary>
    public MessageBodyKind BodyKind { get; private set; }

    /// <summary>
    /// The body bytes. Setting it makes the body one data section. Reading it returns the single data section,
    /// the concatenation of all data sections when there are several (a new buffer), or empty for other body kinds.
    /// </summary>
    public ReadOnlyMemory<byte> Body
    {
        get
        {
            if (BodyKind != MessageBodyKind.Data)
            {
                return ReadOnlyMemory<byte>.Empty;
            }

            if (_dataSections is null)
            {
                return _body;
            }

            return Concatenate(_dataSections);
        }

        set
        {
            ClearBody();
            _body = value;
            BodyKind = MessageBodyKind.Data;
        }
    }

    /// <summary>
    /// The data sections when the body is made of several of them; null when the body is a single data section or
    /// not data. Setting a non-null list makes the body those data sections, in order.
    /// </summary>
    public IList<ReadOnlyMemory<byte>>? DataSections
    {
        get => BodyKind == MessageBodyKind.Data ? _dataSections : null;
        set
        {
            ClearBody();
            if (value is not null)
            {
                _dataSections = value;
                BodyKind = MessageBodyKind.Data;
            }
        }
    }

    /// <summary>
    /// The amqp-value body (any AMQP value, including null). Setting it makes the body an amqp-value section,
    /// even when set to null; use <see cref="ClearBody"/> to remove the body.
    /// </summary>
    public object? AmqpValue
    {
        get => BodyKind == MessageBodyKind.AmqpValue ? _amqpValue : null;
        set
        {
            ClearBody();
            _amqpValue = value;
            BodyKind = MessageBodyKind.AmqpValue;
        }
    }

    /// <summary>
    /// The amqp-sequence body. Setting a non-null list makes the body one amqp-sequence section. Reading it when
    /// the message holds several sequence sections returns their concatenation (a new list).
    /// </summary>
    public IList<object?>? AmqpSequence
    {
        get
        {
            if (BodyKind != MessageBodyKind.AmqpSequence)
            {
                return null;
            }

            if (_amqpSequenceSections is null)
            {
                return _amqpSequence;
            }

            var all = new List<object?>();
            foreach (var section in _amqpSequenceSections)
            {
                all.AddRange(section);
            }

            return all;
        }

        set
        {
            ClearBody();
            if (value is not null)
            {
                _amqpSequence = value;
                BodyKind = MessageBodyKind.AmqpSequence;
            }
        }
    }

    /// <summary>
    /// The amqp-sequence sections when the body holds several of them; null otherwise. Setting a non-null list
    /// makes the body those sequence sections, in order.
    /// </summary>
    public IList<IList<object?>>? AmqpSequenceSections
    {
        get => BodyKind == MessageBodyKind.AmqpSequence ? _amqpSequenceSections : null;
        set
        {
            ClearBody();
            if (value is not null)
            {
                _amqpSequenceSections = value;
                BodyKind = MessageBodyKind.AmqpSequence;
            }
        }
    }

    /// <summary>The header section, or null.</summary>
    public MessageHeader? Header { get; set; }

    /// <summary>The delivery annotations (symbol keys on the wire), or null.</summary>
    public IDictionary<string, object?>? DeliveryAnnotations { get; set; }

    /// <summary>The message annotations (symbol keys on the wire, e.g. <c>x-…</c>), or null.</summary>
    public IDictionary<string, object?>? MessageAnnotations { get; set; }

    /// <summary>The properties section, or null.</summary>
    public MessageProperties? Properties { get; set; }

    /// <summary>The application properties (string keys on the wire), or null.</summary>
    public IDictionary<string, object?>? ApplicationProperties { get; set; }

    /// <summary>The footer (symbol keys on the wire), or null.</summary>
    public IDictionary<string, object?>? Footer { get; set; }

    /// <summary>Removes the body; <see cref="BodyKind"/> becomes <see cref="MessageBodyKind.None"/>.</summary>
    public void ClearBody()
    {
        _body = default;
        _dataSections = null;
        _amqpValue = null;
        _amqpSequence = null;
        _amqpSequenceSections = null;
        BodyKind = MessageBodyKind.None;
    }

    /// <summary>
    /// Copies data-section bytes into buffers owned by this message, so that it no longer aliases the buffer it was
    /// decoded from. Call it before keeping a decoded message beyond the lifetime of that buffer.
    /// </summary>
    public void CopyBody()
    {
        if (BodyKind != MessageBodyKind.Data)
        {
            return;
        }

        if (_dataSections is null)
        {
            _body = _body.ToArray();
            return;
        }

        var copies = new List<ReadOnlyMemory<byte>>(_dataSections.Count);
        foreach (var section in _dataSections)
        {
            copies.Add(section.ToArray());
        }

        _dataSections = copies;
    }

    internal ReadOnlyMemory<byte> SingleDataSection => _body;

    internal IList<ReadOnlyMemory<byte>>? RawDataSections => _dataSections;

    internal object? RawAmqpValue => _amqpValue;

    internal IList<object?>? SingleSequence => _amqpSequence;

    internal IList<IList<object?>>? RawSequenceSections => _amqpSequenceSections;

    private static ReadOnlyMemory<byte> Concatenate(IList<ReadOnlyMemory<byte>> sections)
    {
        if (sections.Count == 1)
        {
            return sections[0];
        }

        var total = 0;
        foreach (var section in sections)
        {
            total = checked(total + section.Length);
        }

        var result = new byte[total];
        var offset = 0;
        foreach (var section in sections)
        {
            section.Span.CopyTo(result.AsSpan(offset));
            offset += section.Length;
        }

        return result;
    }
    /// <summary>
    /// Decodes an AMQP 1.0 message. The returned message's body aliases <paramref name="encoded"/>: copy it
    /// (<see cref="DecodeCopy"/>) when the bytes are reused.
    /// </summary>
    /// <param name="encoded">The encoded sections.</param>
    /// <exception cref="AmqpDecodeException">The bytes are not a valid AMQP 1.0 message.</exception>
    public static Message Decode(ReadOnlyMemory<byte> encoded) => Amqp.AmqpMessageCodec.Decode(encoded);

    /// <summary>Decodes an AMQP 1.0 message into an independent copy.</summary>
    /// <param name="encoded">The encoded sections.</param>
    /// <exception cref="AmqpDecodeException">The bytes are not a valid AMQP 1.0 message.</exception>
    public static Message DecodeCopy(ReadOnlySpan<byte> encoded) => Amqp.AmqpMessageCodec.DecodeCopy(encoded);

    /// <summary>
    /// True when <paramref name="encoded"/> is exactly one data section in its short form and nothing else — what a
    /// message made of a body alone (<c>new Message(bytes)</c>) encodes to. Its body is then
    /// <c>encoded.Slice(start, length)</c>, taken without decoding a message. A quick structural check: false means
    /// "decode it" (<see cref="Decode"/>), not "invalid".
    /// </summary>
    /// <param name="encoded">The entry bytes.</param>
    /// <param name="start">Where the body starts (5 or 8) when true; 0 otherwise.</param>
    /// <param name="length">The body's length when true; 0 otherwise.</param>
    public static bool TryGetBareBody(ReadOnlySpan<byte> encoded, out int start, out int length)
    {
        // 0x00 0x53 0x75: a described value whose descriptor is the small ulong 0x75 (amqp:data:binary).
        if (encoded.Length >= 5 && encoded[0] == 0x00 && encoded[1] == 0x53 && encoded[2] == 0x75)
        {
            if (encoded[3] == Amqp.AmqpTypeCode.Binary8 && encoded[4] == encoded.Length - 5)
            {
                start = 5;
                length = encoded.Length - 5;
                return true;
            }

            if (encoded[3] == Amqp.AmqpTypeCode.Binary32 && encoded.Length >= 8
                && System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(encoded[4..]) == (uint)(encoded.Length - 8))
            {
                start = 8;
                length = encoded.Length - 8;
                return true;
            }
        }

        start = 0;
        length = 0;
        return false;
    }

    /// <summary>True when <paramref name="encoded"/> starts like an AMQP 1.0 message section (a quick check, not a validation).</summary>
    /// <param name="encoded">The entry bytes.</param>
    public static bool LooksLikeAmqp(ReadOnlySpan<byte> encoded) =>
        encoded.Length >= 3 && encoded[0] == 0x00 && encoded[1] == 0x53 && encoded[2] is >= 0x70 and <= 0x78;

    /// <summary>The exact size of this message encoded as AMQP 1.0.</summary>
    public int GetEncodedSize() => Amqp.AmqpMessageCodec.GetSize(this);

    /// <summary>Encodes this message as AMQP 1.0 into <paramref name="destination"/>; returns the bytes written.</summary>
    /// <param name="destination">At least <see cref="GetEncodedSize"/> bytes.</param>
    public int Encode(Span<byte> destination) => Amqp.AmqpMessageCodec.Encode(this, destination);

    /// <summary>Encodes this message as AMQP 1.0 into a new array.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[GetEncodedSize()];
        Encode(bytes);
        return bytes;
    }
}
