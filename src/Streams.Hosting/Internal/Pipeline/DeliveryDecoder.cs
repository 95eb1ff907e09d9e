using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Streams.Client;
using Streams.Hosting.Internal.Backend;

namespace Streams.Hosting.Internal.Pipeline;

/// <summary>The decode stage: a delivery detached from the source's buffer as a <see cref="DeliveryItem"/>.</summary>
internal static class DeliveryDecoder
{
    /// <summary>
    /// Detaches a delivery from the source's buffer (only valid until the source moves on). An entry that is one data
    /// section and nothing else (a message made of a body alone) keeps only a copy of its body: no message is decoded
    /// or built unless something reads it. An entry that is not AMQP 1.0 by the client's rule
    /// (<see cref="Message.DetectFormat"/>; written by a raw producer such as rstream's binary codec) is the copy of
    /// its bytes as the body, with the client's raw message around it (<see cref="RawEntry"/>). Any other entry is decoded.
    /// </summary>
    /// <remarks>Inlined into the per-message step (no exception handling here: <see cref="TryDecode"/> has it).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DeliveryItem ToItem(in StreamDelivery delivery)
    {
        var entry = delivery.Body;
        var span = entry.Span;
        if (Message.TryGetBareBody(span, out var start, out var length))
        {
            return new DeliveryItem(delivery.Offset, delivery.ChunkId, delivery.Timestamp, null, span.Slice(start, length).ToArray(), null);
        }

        if (!Message.LooksLikeAmqp(span))
        {
            return RawEntry(delivery);
        }

        return TryDecode(entry, out var message, out var error)
            ? new DeliveryItem(delivery.Offset, delivery.ChunkId, delivery.Timestamp, message, null, null)
            : new DeliveryItem(delivery.Offset, delivery.ChunkId, delivery.Timestamp, null, null, new Undecodable(span.ToArray(), error));
    }

    /// <summary>
    /// An entry that is not AMQP 1.0: a <c>byte[]</c> handler gets the copy of its bytes as it is (<see cref="DeliveryItem.Body"/>),
    /// any other handler and <see cref="StreamContext.RawMessage"/> the client's lenient decoding of it (the same
    /// array as its body, <see cref="Message.Format"/> <see cref="EntryFormat.Raw"/>). Out of line: entries of other
    /// clients than raw producers never come here.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static DeliveryItem RawEntry(in StreamDelivery delivery)
    {
        var body = delivery.Body.ToArray();
        return new DeliveryItem(delivery.Offset, delivery.ChunkId, delivery.Timestamp, Message.DecodeEntry(body), body, null);
    }

    /// <summary>Decodes in place, then copies only the body out of the source's buffer (not the whole entry).</summary>
    private static bool TryDecode(ReadOnlyMemory<byte> entry, [NotNullWhen(true)] out Message? message, [NotNullWhen(false)] out Exception? error)
    {
        try
        {
            message = Message.Decode(entry);
            message.CopyBody();
            error = null;
            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            message = null;
            error = ex;
            return false;
        }
    }
}
