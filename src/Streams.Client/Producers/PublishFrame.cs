using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Streams.Client.Producers;

/// <summary>
/// Encodes Publish frames (key 0x0002) into a pooled buffer: v1 <c>pubId n n×(id:u64 entry)</c> with simple or
/// sub-batch entries, v2 <c>pubId n n×(id:u64 filter:str len:u32 msg)</c>. The frame includes its u32 size prefix.
/// Not thread-safe.
/// </summary>
internal sealed class PublishFrame : IDisposable
{
    public const ushort Key = 0x0002;

    /// <summary>size:u32 key:u16 version:u16 publisherId:u8 count:u32.</summary>
    public const int HeaderSize = 13;

    /// <summary>publishingId:u64 + length:u32.</summary>
    public const int V1MessageOverhead = 12;

    /// <summary>publishingId:u64 + sub-batch byte + records:u16 + uncompressed:u32 + data length:u32.</summary>
    public const int SubEntryOverhead = 19;

    private byte[] _buffer;
    private int _limit;

    public PublishFrame(int capacity)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, HeaderSize));
        _limit = _buffer.Length;
    }

    public byte PublisherId { get; private set; }

    public ushort Version { get; private set; }

    /// <summary>Bytes written so far, header included.</summary>
    public int Length { get; private set; }

    /// <summary>Entries written so far.</summary>
    public int Count { get; private set; }

    public int Capacity => _buffer.Length;

    /// <summary>The producer's sequence number of the last message in this frame (−1 when empty): the frame may be
    /// recycled once every message up to it is settled.</summary>
    public long LastSequence { get; set; } = -1;

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    /// <summary>The v2 per-message overhead for a filter value of <paramref name="filterBytes"/> UTF-8 bytes (−1 = none).</summary>
    public static int V2MessageOverhead(int filterBytes) => 8 + 2 + Math.Max(filterBytes, 0) + 4;

    /// <summary>Starts a new frame, keeping the buffer if it holds at least <paramref name="capacity"/> bytes.</summary>
    public void Reset(byte publisherId, ushort version, int capacity)
    {
        if (_buffer.Length < capacity)
        {
            Return();
            _buffer = ArrayPool<byte>.Shared.Rent(capacity);
        }

        _limit = capacity;
        LastSequence = -1;
        PublisherId = publisherId;
        Version = version;
        Count = 0;
        Length = HeaderSize;
        var span = _buffer.AsSpan();
        BinaryPrimitives.WriteUInt16BigEndian(span[4..], Key);
        BinaryPrimitives.WriteUInt16BigEndian(span[6..], version);
        span[8] = publisherId;
    }

    /// <summary>Bytes left before the capacity given to <see cref="Reset"/> (the frame-max budget).</summary>
    public int Remaining => _limit - Length;

    /// <summary>Appends a v1 simple entry; the caller checked <see cref="Remaining"/>.</summary>
    public void AppendV1(ulong publishingId, ReadOnlySpan<byte> message)
    {
        var span = _buffer.AsSpan(Length, V1MessageOverhead + message.Length);
        BinaryPrimitives.WriteUInt64BigEndian(span, publishingId);
        BinaryPrimitives.WriteUInt32BigEndian(span[8..], (uint)message.Length);
        message.CopyTo(span[12..]);
        Length += span.Length;
        Count++;
    }

    /// <summary>
    /// Starts a v1 simple entry whose message is written by the caller into the returned span (of
    /// <paramref name="messageLength"/> bytes); the caller checked <see cref="Remaining"/>.
    /// </summary>
    public Span<byte> AppendV1(ulong publishingId, int messageLength)
    {
        var span = _buffer.AsSpan(Length, V1MessageOverhead + messageLength);
        BinaryPrimitives.WriteUInt64BigEndian(span, publishingId);
        BinaryPrimitives.WriteUInt32BigEndian(span[8..], (uint)messageLength);
        Length += span.Length;
        Count++;
        return span[12..];
    }

    /// <summary>Appends a v2 entry with an optional filter value; the caller checked <see cref="Remaining"/>.</summary>
    public void AppendV2(ulong publishingId, string? filterValue, ReadOnlySpan<byte> message)
    {
        var span = _buffer.AsSpan(Length);
        BinaryPrimitives.WriteUInt64BigEndian(span, publishingId);
        int position = 8;
        if (filterValue is null)
        {
            BinaryPrimitives.WriteInt16BigEndian(span[position..], -1);
            position += 2;
        }
        else
        {
            int written = Encoding.UTF8.GetBytes(filterValue, span[(position + 2)..]);
            BinaryPrimitives.WriteInt16BigEndian(span[position..], checked((short)written));
            position += 2 + written;
        }

        BinaryPrimitives.WriteUInt32BigEndian(span[position..], (uint)message.Length);
        position += 4;
        message.CopyTo(span[position..]);
        Length += position + message.Length;
        Count++;
    }

    /// <summary>
    /// Starts a v2 entry whose message (<paramref name="messageLength"/> bytes) is written by the caller into the
    /// returned span; <paramref name="filterBytes"/> is the UTF-8 size of <paramref name="filterValue"/> (−1 when null).
    /// </summary>
    public Span<byte> AppendV2(ulong publishingId, string? filterValue, int filterBytes, int messageLength)
    {
        var span = _buffer.AsSpan(Length, V2MessageOverhead(filterBytes) + messageLength);
        BinaryPrimitives.WriteUInt64BigEndian(span, publishingId);
        int position = 8;
        if (filterValue is null)
        {
            BinaryPrimitives.WriteInt16BigEndian(span[position..], -1);
            position += 2;
        }
        else
        {
            BinaryPrimitives.WriteInt16BigEndian(span[position..], checked((short)filterBytes));
            Encoding.UTF8.GetBytes(filterValue, span[(position + 2)..]);
            position += 2 + filterBytes;
        }

        BinaryPrimitives.WriteUInt32BigEndian(span[position..], (uint)messageLength);
        position += 4;
        Length += span.Length;
        Count++;
        return span[position..];
    }

    /// <summary>
    /// Appends a v1 sub-batch entry: <paramref name="messages"/> as <c>size:u32 + bytes</c> records, compressed with
    /// <paramref name="codec"/>. Grows the buffer as needed; returns the bytes the entry took.
    /// </summary>
    public int AppendSubEntry(ulong publishingId, IReadOnlyList<ReadOnlyMemory<byte>> messages, ICompressionCodec codec, PooledBufferWriter scratch)
    {
        if (messages.Count is 0 or > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(messages), messages.Count, "A sub-entry batch holds 1 to 65535 messages.");
        }

        ArgumentNullException.ThrowIfNull(codec);
        var compression = codec.Type;
        scratch.Clear();
        for (int i = 0; i < messages.Count; i++)
        {
            var message = messages[i].Span;
            var span = scratch.GetSpan(4 + message.Length);
            BinaryPrimitives.WriteUInt32BigEndian(span, (uint)message.Length);
            message.CopyTo(span[4..]);
            scratch.Advance(4 + message.Length);
        }

        int uncompressed = scratch.WrittenCount;
        var output = new FrameTailWriter(this, SubEntryOverhead);
        codec.Compress(scratch.WrittenSpan, output);
        int dataLength = output.Written;

        WriteSubEntryHead(_buffer.AsSpan(Length, SubEntryOverhead), publishingId, compression, messages.Count, uncompressed, dataLength);
        int total = SubEntryOverhead + dataLength;
        Length += total;
        Count++;
        return total;
    }

    /// <summary>
    /// Appends a v1 sub-batch entry whose <paramref name="data"/> (the <c>size:u32 + bytes</c> records of
    /// <paramref name="records"/> messages, <paramref name="uncompressedLength"/> bytes before compression) is already
    /// compressed with <paramref name="compression"/>; the caller checked <see cref="Remaining"/>.
    /// </summary>
    public void AppendSubEntry(ulong publishingId, CompressionType compression, int records, int uncompressedLength, ReadOnlySpan<byte> data)
    {
        var span = _buffer.AsSpan(Length, SubEntryOverhead + data.Length);
        WriteSubEntryHead(span, publishingId, compression, records, uncompressedLength, data.Length);
        data.CopyTo(span[SubEntryOverhead..]);
        Length += span.Length;
        Count++;
    }

    private static void WriteSubEntryHead(Span<byte> head, ulong publishingId, CompressionType compression, int records, int uncompressedLength, int dataLength)
    {
        BinaryPrimitives.WriteUInt64BigEndian(head, publishingId);
        head[8] = (byte)(0x80 | ((byte)compression << 4));
        BinaryPrimitives.WriteUInt16BigEndian(head[9..], checked((ushort)records));
        BinaryPrimitives.WriteUInt32BigEndian(head[11..], (uint)uncompressedLength);
        BinaryPrimitives.WriteUInt32BigEndian(head[15..], (uint)dataLength);
    }

    /// <summary>Overwrites the publisher id (after a producer re-declared itself on a new connection).</summary>
    public void PatchPublisherId(byte publisherId)
    {
        PublisherId = publisherId;
        _buffer[8] = publisherId;
    }

    /// <summary>Overwrites the publishing id of the first entry (written with a placeholder).</summary>
    public void PatchFirstPublishingId(ulong publishingId) =>
        BinaryPrimitives.WriteUInt64BigEndian(_buffer.AsSpan(HeaderSize), publishingId);

    /// <summary>Writes the size prefix and the entry count; the frame is then ready to send.</summary>
    public ReadOnlyMemory<byte> Seal()
    {
        var span = _buffer.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)(Length - 4));
        BinaryPrimitives.WriteUInt32BigEndian(span[9..], (uint)Count);
        return Memory;
    }

    public void Dispose() => Return();

    private void Return()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Grow(int needed, int preserve)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, needed));
        _buffer.AsSpan(0, Math.Min(preserve, _buffer.Length)).CopyTo(bigger);
        Return();
        _buffer = bigger;
    }

    /// <summary>Writes after <c>Length + reserved</c> without moving <see cref="Length"/>.</summary>
    private sealed class FrameTailWriter(PublishFrame frame, int reserved) : IBufferWriter<byte>
    {
        public int Written { get; private set; }

        public void Advance(int count) => Written += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return frame._buffer.AsMemory(frame.Length + reserved + Written);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return frame._buffer.AsSpan(frame.Length + reserved + Written);
        }

        private void Ensure(int sizeHint)
        {
            int needed = frame.Length + reserved + Written + Math.Max(sizeHint, 1);
            if (needed > frame._buffer.Length)
            {
                frame.Grow(needed, frame.Length + reserved + Written);
            }
        }
    }
}
