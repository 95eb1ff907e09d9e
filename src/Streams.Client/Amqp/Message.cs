using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

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
    /// How the entry this message was decoded from is stored: <see cref="EntryFormat.Amqp"/> (the default, and what a
    /// message built in code is) or <see cref="EntryFormat.Raw"/> when it was decoded leniently
    /// (<see cref="DecodeEntry"/>, <c>Delivery.DecodeMessage</c>) from an entry that is not AMQP 1.0: its
    /// <see cref="Body"/> is then the entry's bytes. It describes where the message came from only: a producer always
    /// encodes a <see cref="Message"/> as AMQP 1.0 (publish bytes with <c>Producer.SendAsync(ReadOnlyMemory&lt;byte&gt;)</c>
    /// to write a raw entry).
    /// </summary>
    public EntryFormat Format { get; internal init; }

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
    /// Decodes an AMQP 1.0 message, strictly: bytes that are not AMQP 1.0 throw. For a stream entry that may have been
    /// written by a raw producer, use <see cref="DecodeEntry"/> (or <c>Delivery.DecodeMessage</c>), which returns such
    /// an entry's bytes as the body. The returned message's body aliases <paramref name="encoded"/>: copy it
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

    /// <summary>
    /// True when <paramref name="encoded"/> starts like an AMQP 1.0 message: <see cref="DetectFormat"/> says
    /// <see cref="EntryFormat.Amqp"/>. A quick check of the first bytes, not a validation (decoding may still fail).
    /// </summary>
    /// <param name="encoded">The entry bytes.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool LooksLikeAmqp(ReadOnlySpan<byte> encoded) =>
        // The common case first (a section descriptor as a small ulong: 0x00 0x53 0x70..0x78); the other forms apart.
        (encoded.Length >= 3 && encoded[0] == Amqp.AmqpTypeCode.Described && encoded[1] == Amqp.AmqpTypeCode.SmallULong
            && encoded[2] is >= (byte)Amqp.AmqpTypeCode.HeaderSection and <= (byte)Amqp.AmqpTypeCode.FooterSection)
        || StartsWithLongSectionDescriptor(encoded);

    /// <summary>
    /// Tells an AMQP 1.0 entry from a raw one by its first bytes, without decoding it. The rule: an entry is
    /// <see cref="EntryFormat.Amqp"/> when it starts with a described-type constructor (<c>0x00</c>) followed by one of
    /// the nine message section descriptors (header <c>0x70</c> to footer <c>0x78</c>) in any form the AMQP 1.0 type
    /// system allows — a small ulong (<c>0x00 0x53 0x70..0x78</c>), a ulong (<c>0x00 0x80</c> then 8 big-endian bytes
    /// holding 0x70..0x78) or the section's symbolic name (<c>0x00 0xa3</c> or <c>0x00 0xb3</c>, e.g.
    /// <c>amqp:data:binary</c>); anything else — empty bytes, text, bytes starting with <c>0x00</c> but no complete
    /// section descriptor — is <see cref="EntryFormat.Raw"/>.
    /// </summary>
    /// <remarks>
    /// An AMQP message always starts with a section descriptor, so corrupt or truncated AMQP (a damaged section after
    /// a valid descriptor) stays <see cref="EntryFormat.Amqp"/> and fails to decode with <see cref="AmqpDecodeException"/>
    /// rather than passing for raw data. The converse is the rule's one ambiguity: raw bytes that happen to begin with a
    /// section descriptor are taken for AMQP (and then usually fail to decode); text never does, as it never starts
    /// with <c>0x00</c>. An AMQP message without any section would be empty, and AMQP requires a body section, so an
    /// empty entry is raw: an empty body.
    /// </remarks>
    /// <param name="entry">The entry bytes as stored in the stream.</param>
    public static EntryFormat DetectFormat(ReadOnlySpan<byte> entry) => LooksLikeAmqp(entry) ? EntryFormat.Amqp : EntryFormat.Raw;

    /// <summary>
    /// Decodes a stream entry leniently: an AMQP 1.0 entry as <see cref="Decode"/> does, a raw one
    /// (<see cref="DetectFormat"/>) as a message whose <see cref="Body"/> is <paramref name="entry"/> itself and whose
    /// <see cref="Format"/> is <see cref="EntryFormat.Raw"/>. The returned message's body aliases
    /// <paramref name="entry"/>: call <see cref="CopyBody"/> when the bytes are reused.
    /// </summary>
    /// <param name="entry">The entry bytes as stored in the stream.</param>
    /// <exception cref="AmqpDecodeException">The entry starts like AMQP 1.0 but is not a valid AMQP 1.0 message (corrupt or truncated).</exception>
    public static Message DecodeEntry(ReadOnlyMemory<byte> entry) =>
        LooksLikeAmqp(entry.Span) ? Amqp.AmqpMessageCodec.Decode(entry) : Amqp.RawMessageCodec.Decode(entry);

    /// <summary>
    /// <see cref="DecodeEntry"/> without the exception: false (and a null message) only when the entry starts like
    /// AMQP 1.0 but does not decode; a raw entry decodes (true) to its bytes.
    /// </summary>
    /// <param name="entry">The entry bytes as stored in the stream (the message's body aliases them).</param>
    /// <param name="message">The decoded message when true; null otherwise.</param>
    public static bool TryDecodeEntry(ReadOnlyMemory<byte> entry, [NotNullWhen(true)] out Message? message)
    {
        try
        {
            message = DecodeEntry(entry);
            return true;
        }
        catch (AmqpDecodeException)
        {
            message = null;
            return false;
        }
    }

    /// <summary>The rarer section descriptor forms: a full ulong (<c>0x00 0x80</c> + 8 bytes) or a symbol.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool StartsWithLongSectionDescriptor(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length < 2 || encoded[0] != Amqp.AmqpTypeCode.Described)
        {
            return false;
        }

        switch (encoded[1])
        {
            case Amqp.AmqpTypeCode.ULong when encoded.Length >= 10:
                var code = BinaryPrimitives.ReadUInt64BigEndian(encoded.Slice(2, 8));
                return code is >= Amqp.AmqpTypeCode.HeaderSection and <= Amqp.AmqpTypeCode.FooterSection;
            case Amqp.AmqpTypeCode.Symbol8 when encoded.Length >= 3 && encoded.Length - 3 >= encoded[2]:
                return IsSectionName(encoded.Slice(3, encoded[2]));
            case Amqp.AmqpTypeCode.Symbol32 when encoded.Length >= 6:
                var length = BinaryPrimitives.ReadUInt32BigEndian(encoded.Slice(2, 4));
                return length <= (uint)(encoded.Length - 6) && IsSectionName(encoded.Slice(6, (int)length));
            default:
                return false;
        }
    }

    private static bool IsSectionName(ReadOnlySpan<byte> name) =>
        name.SequenceEqual("amqp:header:list"u8)
        || name.SequenceEqual("amqp:delivery-annotations:map"u8)
        || name.SequenceEqual("amqp:message-annotations:map"u8)
        || name.SequenceEqual("amqp:properties:list"u8)
        || name.SequenceEqual("amqp:application-properties:map"u8)
        || name.SequenceEqual("amqp:data:binary"u8)
        || name.SequenceEqual("amqp:amqp-sequence:list"u8)
        || name.SequenceEqual("amqp:amqp-value:*"u8)
        || name.SequenceEqual("amqp:footer:map"u8);

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
