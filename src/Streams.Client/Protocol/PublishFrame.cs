using System.Buffers.Binary;
using System.Text;

namespace Streams.Client.Protocol;

/// <summary>
/// Helpers to build Publish frames in place: write the header with placeholders, append entries, then
/// <see cref="Complete"/> patches the size and the message count.
/// Layout: <c>size:u32 key:u16 version:u16 publisherId:u8 count:u32</c> then entries.
/// </summary>
internal static class PublishFrame
{
    /// <summary>Bytes before the first entry.</summary>
    public const int HeaderSize = 13;

    /// <summary>Offset of the count field.</summary>
    public const int CountOffset = 9;

    /// <summary>Per-message overhead of a v1 simple entry (publishing id + length).</summary>
    public const int V1EntryOverhead = 12;

    /// <summary>Writes the Publish header for <paramref name="version"/> 1 or 2 with size and count 0.</summary>
    public static void WriteHeader(Span<byte> destination, byte publisherId, ushort version)
    {
        if (version is not (ProtocolConstants.Version1 or ProtocolConstants.Version2))
        {
            throw new ArgumentOutOfRangeException(nameof(version), version, "Publish version must be 1 or 2.");
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination, 0);
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], (ushort)CommandKey.Publish);
        BinaryPrimitives.WriteUInt16BigEndian(destination[6..], version);
        destination[8] = publisherId;
        BinaryPrimitives.WriteUInt32BigEndian(destination[CountOffset..], 0);
    }

    /// <summary>Patches size (= <paramref name="totalLength"/> − 4) and message count.</summary>
    public static void Complete(Span<byte> frame, int totalLength, int count)
    {
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)(totalLength - ProtocolConstants.SizePrefix));
        BinaryPrimitives.WriteUInt32BigEndian(frame[CountOffset..], (uint)count);
    }

    /// <summary>Size of a v1 simple entry.</summary>
    public static int V1EntrySize(int messageLength) => V1EntryOverhead + messageLength;

    /// <summary>Writes a v1 simple entry (publishingId:u64 len:u32 message) and returns its size.</summary>
    public static int WriteV1Entry(Span<byte> destination, ulong publishingId, ReadOnlySpan<byte> message)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, publishingId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], (uint)message.Length);
        message.CopyTo(destination[12..]);
        return V1EntryOverhead + message.Length;
    }

    /// <summary>Size of a v2 entry.</summary>
    public static int V2EntrySize(string? filterValue, int messageLength) => 8 + ProtocolWriter.SizeOf(filterValue) + 4 + messageLength;

    /// <summary>Writes a v2 entry (publishingId:u64 filter:str len:u32 message) and returns its size.</summary>
    public static int WriteV2Entry(Span<byte> destination, ulong publishingId, string? filterValue, ReadOnlySpan<byte> message)
    {
        var w = new ProtocolWriter(destination);
        w.WriteUInt64(publishingId);
        w.WriteString(filterValue);
        w.WriteUInt32((uint)message.Length);
        w.WriteRaw(message);
        return w.Position;
    }

    /// <summary>UTF-8 size of a filter value string as written in a v2 entry.</summary>
    public static int FilterSize(string? filterValue) => filterValue is null ? 2 : 2 + Encoding.UTF8.GetByteCount(filterValue);
}
