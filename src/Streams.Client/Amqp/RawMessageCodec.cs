namespace Streams.Client.Amqp;

/// <summary>
/// The raw-binary codec: the entry stored in the stream is the body bytes themselves, with no AMQP sections.
/// Only readers that agree on the raw format can consume such entries (AMQP 0.9.1 and 1.0 consumers of the stream
/// expect AMQP 1.0), so the producer uses it only when asked to.
/// </summary>
internal static class RawMessageCodec
{
    /// <summary>The encoded size of a raw message: its body length.</summary>
    public static int GetSize(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.BodyKind switch
        {
            MessageBodyKind.Data => message.RawDataSections is { } sections ? TotalLength(sections) : message.SingleDataSection.Length,
            MessageBodyKind.None => 0,
            _ => throw new ArgumentException("Only data bodies can be sent as raw binary.", nameof(message)),
        };
    }

    /// <summary>Copies the body bytes (all data sections, concatenated) to <paramref name="destination"/>. Returns the bytes written.</summary>
    public static int Encode(Message message, Span<byte> destination)
    {
        var size = GetSize(message);
        if (destination.Length < size)
        {
            throw new ArgumentException($"The destination holds {destination.Length} bytes; {size} are needed.", nameof(destination));
        }

        if (message.RawDataSections is { } sections)
        {
            var offset = 0;
            for (var i = 0; i < sections.Count; i++)
            {
                sections[i].Span.CopyTo(destination.Slice(offset));
                offset += sections[i].Length;
            }

            return offset;
        }

        if (message.BodyKind == MessageBodyKind.Data)
        {
            message.SingleDataSection.Span.CopyTo(destination);
        }

        return size;
    }

    /// <summary>
    /// Wraps raw entry bytes as a message whose <see cref="Message.Body"/> aliases <paramref name="entry"/>
    /// (<see cref="Message.Format"/> <see cref="EntryFormat.Raw"/>), whatever they hold; <see cref="Message.DecodeEntry"/>
    /// decides by <see cref="Message.DetectFormat"/> instead.
    /// </summary>
    public static Message Decode(ReadOnlyMemory<byte> entry) => new(entry) { Format = EntryFormat.Raw };

    private static int TotalLength(IList<ReadOnlyMemory<byte>> sections)
    {
        var total = 0;
        for (var i = 0; i < sections.Count; i++)
        {
            total = checked(total + sections[i].Length);
        }

        return total;
    }
}
