using System.Buffers.Binary;
using System.IO.Compression;

namespace Streams.Client.Tests.Hostile;

/// <summary>What a correct client should make of one inbound frame.</summary>
internal enum Verdict
{
    /// <summary>Not for the watched subscription/publisher, a heartbeat, or a non-user chunk: nothing to deliver.</summary>
    Ignored,

    /// <summary>Well-formed: its records/confirms are to be delivered.</summary>
    Valid,

    /// <summary>Readable, but its counts or lengths disagree (NumEntries/NumRecords/trailing bytes...): a strict client rejects it.</summary>
    Inconsistent,

    /// <summary>Malformed chunk (bad magic, CRC, truncated entry, bad sub-batch...): the consumer must fail with a typed error.</summary>
    Invalid,

    /// <summary>Malformed frame (bad size, truncated command header) or a Close: the connection is expected to close.</summary>
    ClosesConnection,

    /// <summary>Another command (key mutated): the client may ignore it, answer it or close; any typed outcome is fine.</summary>
    OtherCommand,
}

/// <summary>The reference reading of one frame.</summary>
internal sealed record Decoded(Verdict Verdict, string Reason, List<(ulong Offset, byte[] Body)> Records, List<ulong> Confirmed, List<ulong> Errored)
{
    public static Decoded Of(Verdict verdict, string reason) => new(verdict, reason, [], [], []);
}

/// <summary>
/// An independent reading of the inbound byte stream, written from protocol.md §1/§3/§5 (not from the client code):
/// splits frames by their size prefix exactly as the wire does, and decodes Deliver and PublishConfirm frames. Used as
/// the oracle: every message a client delivers must be one this reading finds, at the same offset with the same body.
/// </summary>
internal sealed class ReferenceStream
{
    /// <summary>The client's inbound frame size limit (frames above it are treated as a corrupt stream).</summary>
    public const uint MaxFrameSize = 512 * 1024 * 1024;

    private readonly List<byte> _pending = [];

    /// <summary>A size prefix no frame can have was seen: a correct client closes the connection.</summary>
    public bool Broken { get; private set; }

    /// <summary>Bytes of an incomplete frame waiting for more input (the stream is desynchronised when non-zero after a case).</summary>
    public int PendingBytes => _pending.Count;

    /// <summary>The size the incomplete frame announces, when one is pending.</summary>
    public uint PendingFrameSize => _pending.Count >= 4 ? BinaryPrimitives.ReadUInt32BigEndian(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending)) : 0;

    /// <summary>Adds bytes and returns the complete frames (without their size prefix).</summary>
    public List<byte[]> Feed(ReadOnlySpan<byte> bytes)
    {
        var frames = new List<byte[]>();
        if (Broken)
        {
            return frames;
        }

        foreach (var b in bytes)
        {
            _pending.Add(b);
        }

        while (_pending.Count >= 4)
        {
            uint size = BinaryPrimitives.ReadUInt32BigEndian(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending));
            if (size < 4 || size > MaxFrameSize)
            {
                Broken = true;
                _pending.Clear();
                break;
            }

            if (_pending.Count - 4 < size)
            {
                break;
            }

            frames.Add(_pending.GetRange(4, (int)size).ToArray());
            _pending.RemoveRange(0, 4 + (int)size);
        }

        return frames;
    }
}

internal static class ReferenceDecoder
{
    /// <summary>Sub-batches announcing more than this are rejected by the reference (it must stay small itself).</summary>
    public const int MaxUncompressed = 16 * 1024 * 1024;

    /// <summary>
    /// Decodes a frame (no size prefix) as seen by a consumer of <paramref name="subscriptionId"/> whose next deliverable
    /// offset is <paramref name="minOffset"/>, and by a producer of <paramref name="publisherId"/>.
    /// </summary>
    public static Decoded Decode(byte[] frame, byte subscriptionId, byte publisherId, ulong minOffset, string stream)
    {
        if (frame.Length < 4)
        {
            return Decoded.Of(Verdict.ClosesConnection, "frame shorter than key+version");
        }

        ushort key = BinaryPrimitives.ReadUInt16BigEndian(frame);
        ushort version = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(2));
        switch (key)
        {
            case 0x0008:
                return DecodeDeliver(frame, version, subscriptionId, minOffset);
            case 0x0003:
            case 0x0004:
                return DecodeConfirmOrError(frame, key, publisherId);
            case 0x0017:
                return Decoded.Of(Verdict.Ignored, "heartbeat");
            case 0x0016:
                return Decoded.Of(Verdict.ClosesConnection, "Close from the peer (or a truncated one)");
            case 0x0010:
                return Decoded.Of(Verdict.OtherCommand, frame.Length >= 8 && ReadStreamName(frame) == stream ? "MetadataUpdate for the stream" : "MetadataUpdate");
            default:
                return Decoded.Of(Verdict.OtherCommand, $"key 0x{key:x4}");
        }
    }

    private static string? ReadStreamName(byte[] frame)
    {
        short length = BinaryPrimitives.ReadInt16BigEndian(frame.AsSpan(6));
        return length >= 0 && 8 + length <= frame.Length ? System.Text.Encoding.UTF8.GetString(frame, 8, length) : null;
    }

    private static Decoded DecodeConfirmOrError(byte[] frame, ushort key, byte publisherId)
    {
        int entrySize = key == 0x0003 ? 8 : 10;
        if (frame.Length < 9)
        {
            return Decoded.Of(Verdict.ClosesConnection, "truncated confirm header");
        }

        uint count = BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(5));
        long available = (frame.Length - 9) / entrySize;
        if (count > available)
        {
            return Decoded.Of(Verdict.ClosesConnection, $"count {count} > {available} entries present");
        }

        if (frame[4] != publisherId)
        {
            return Decoded.Of(Verdict.Ignored, $"publisher id {frame[4]} is not ours");
        }

        var ids = new List<ulong>();
        for (int i = 0; i < count; i++)
        {
            ids.Add(BinaryPrimitives.ReadUInt64BigEndian(frame.AsSpan(9 + (i * entrySize))));
        }

        bool trailing = 9 + (count * entrySize) != frame.Length;
        var verdict = trailing ? Verdict.Inconsistent : Verdict.Valid;
        return key == 0x0003
            ? new Decoded(verdict, trailing ? "trailing bytes after the ids" : "confirm", [], ids, [])
            : new Decoded(verdict, "publish error", [], [], ids);
    }

    private static Decoded DecodeDeliver(byte[] frame, ushort version, byte subscriptionId, ulong minOffset)
    {
        // v1: subId + chunk; v2 (and, like later versions, anything above 1): subId + committedChunkId + chunk.
        int chunkStart = version >= 2 ? 13 : 5;
        if (frame.Length < chunkStart)
        {
            return Decoded.Of(Verdict.ClosesConnection, "truncated Deliver header");
        }

        if (frame[4] != subscriptionId)
        {
            return Decoded.Of(Verdict.Ignored, $"subscription id {frame[4]} is not ours");
        }

        var chunk = frame.AsSpan(chunkStart);
        if (chunk.Length < 48)
        {
            return Decoded.Of(Verdict.Invalid, $"chunk of {chunk.Length} bytes has no full header");
        }

        if (chunk[0] != 0x50)
        {
            return Decoded.Of(Verdict.Invalid, $"magic 0x{chunk[0]:x2}");
        }

        ushort numEntries = BinaryPrimitives.ReadUInt16BigEndian(chunk[2..]);
        uint numRecords = BinaryPrimitives.ReadUInt32BigEndian(chunk[4..]);
        ulong chunkId = BinaryPrimitives.ReadUInt64BigEndian(chunk[24..]);
        uint crc = BinaryPrimitives.ReadUInt32BigEndian(chunk[32..]);
        uint dataLength = BinaryPrimitives.ReadUInt32BigEndian(chunk[36..]);
        if (dataLength > (uint)(chunk.Length - 48))
        {
            return Decoded.Of(Verdict.Invalid, $"dataLength {dataLength} > {chunk.Length - 48} bytes present");
        }

        var data = chunk.Slice(48, (int)dataLength);
        if (chunk[1] != 0)
        {
            // Non-user chunks are skipped whole (tracking chunks; their CRC is not checked by clients).
            return Decoded.Of(Verdict.Ignored, $"chunk type {chunk[1]}");
        }

        if (Crc32(data) != crc)
        {
            return Decoded.Of(Verdict.Invalid, "CRC mismatch");
        }

        var records = new List<(ulong, byte[])>();
        var notes = new List<string>();
        ulong next = chunkId;
        int p = 0;
        uint counted = 0;
        for (int e = 0; e < numEntries; e++)
        {
            if (data.Length - p < 4)
            {
                return new Decoded(Verdict.Invalid, $"entry {e} truncated", records, [], []);
            }

            if ((data[p] & 0x80) == 0)
            {
                uint length = BinaryPrimitives.ReadUInt32BigEndian(data[p..]);
                if (length > (uint)(data.Length - p - 4))
                {
                    return new Decoded(Verdict.Invalid, $"entry {e} length {length} overruns the data", records, [], []);
                }

                Add(records, next++, data.Slice(p + 4, (int)length), minOffset);
                counted++;
                p += 4 + (int)length;
                continue;
            }

            if (data.Length - p < 11)
            {
                return new Decoded(Verdict.Invalid, $"sub-batch {e} header truncated", records, [], []);
            }

            int compression = (data[p] >> 4) & 0x07;
            if ((data[p] & 0x0F) != 0)
            {
                notes.Add($"sub-batch {e} reserved bits 0x{data[p] & 0x0F:x}");
            }

            ushort n = BinaryPrimitives.ReadUInt16BigEndian(data[(p + 1)..]);
            uint uncompressed = BinaryPrimitives.ReadUInt32BigEndian(data[(p + 3)..]);
            uint batchLength = BinaryPrimitives.ReadUInt32BigEndian(data[(p + 7)..]);
            if (batchLength > (uint)(data.Length - p - 11))
            {
                return new Decoded(Verdict.Invalid, $"sub-batch {e} dataLength {batchLength} overruns the data", records, [], []);
            }

            var payload = data.Slice(p + 11, (int)batchLength);
            p += 11 + (int)batchLength;
            counted += n;
            if (next + n <= minOffset && next + n >= next)
            {
                // Entirely below the resume point: skipped without being read.
                next += n;
                continue;
            }

            byte[] batch;
            if (compression == 0)
            {
                batch = payload.ToArray();
                if (uncompressed != batchLength)
                {
                    notes.Add($"sub-batch {e} uncompressed {uncompressed} != dataLength {batchLength}");
                }
            }
            else if (compression == 1)
            {
                if (uncompressed > MaxUncompressed)
                {
                    return new Decoded(Verdict.Invalid, $"sub-batch {e} announces {uncompressed} uncompressed bytes", records, [], []);
                }

                var (inflated, after) = Gunzip(payload, (int)uncompressed);
                if (inflated is null)
                {
                    return new Decoded(Verdict.Invalid, $"sub-batch {e} does not inflate to {uncompressed} bytes", records, [], []);
                }

                if (after is not null)
                {
                    notes.Add($"sub-batch {e} gzip stream {after} after the announced {uncompressed} bytes");
                }

                batch = inflated;
            }
            else
            {
                return new Decoded(Verdict.Invalid, $"sub-batch {e} compression {compression} unsupported", records, [], []);
            }

            int q = 0;
            for (int r = 0; r < n; r++)
            {
                if (batch.Length - q < 4)
                {
                    return new Decoded(Verdict.Invalid, $"sub-batch {e} record {r} truncated", records, [], []);
                }

                uint size = BinaryPrimitives.ReadUInt32BigEndian(batch.AsSpan(q));
                if (size > (uint)(batch.Length - q - 4))
                {
                    return new Decoded(Verdict.Invalid, $"sub-batch {e} record {r} size {size} overruns the batch", records, [], []);
                }

                Add(records, next++, batch.AsSpan(q + 4, (int)size), minOffset);
                q += 4 + (int)size;
            }

            if (q != batch.Length)
            {
                notes.Add($"sub-batch {e} has {batch.Length - q} bytes after its {n} records");
            }
        }

        if (p != data.Length)
        {
            notes.Add($"{data.Length - p} data bytes after {numEntries} entries");
        }

        if (counted != numRecords)
        {
            notes.Add($"numRecords {numRecords} but {counted} records");
        }

        return notes.Count == 0
            ? new Decoded(Verdict.Valid, "chunk", records, [], [])
            : new Decoded(Verdict.Inconsistent, string.Join(", ", notes), records, [], []);
    }

    private static void Add(List<(ulong, byte[])> records, ulong offset, ReadOnlySpan<byte> body, ulong minOffset)
    {
        if (offset >= minOffset)
        {
            records.Add((offset, body.ToArray()));
        }
    }

    /// <summary>
    /// Inflates exactly <paramref name="length"/> bytes (null when the stream is corrupt or shorter before that), then
    /// looks one byte further: what follows is described in the second value (more data, or corrupt) or null when the
    /// stream ends cleanly there. A reader that stops at the announced length never sees what follows.
    /// </summary>
    private static (byte[]? Inflated, string? After) Gunzip(ReadOnlySpan<byte> payload, int length)
    {
        using var input = new MemoryStream(payload.ToArray());
        using var gzip = new GZipStream(input, CompressionMode.Decompress);
        var output = new byte[length];
        int total = 0;
        try
        {
            while (total < length)
            {
                int read = gzip.Read(output, total, length - total);
                if (read == 0)
                {
                    return (null, null);
                }

                total += read;
            }
        }
        catch (InvalidDataException)
        {
            return (null, null);
        }

        try
        {
            var one = new byte[1];
            return (output, gzip.Read(one, 0, 1) > 0 ? "inflates further" : null);
        }
        catch (InvalidDataException)
        {
            return (output, "is corrupt");
        }
    }

    /// <summary>CRC-32 (IEEE, reflected 0xEDB88320), bitwise: independent of the client's table implementation.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}
