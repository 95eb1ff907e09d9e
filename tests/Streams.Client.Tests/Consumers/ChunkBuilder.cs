using System.Buffers.Binary;
using System.IO.Compression;
using Streams.Client.Consumers;

namespace Streams.Client.Tests.Consumers;

/// <summary>Builds osiris chunks byte by byte for tests (independently of the production encoder).</summary>
internal sealed class ChunkBuilder
{
    private readonly MemoryStream _data = new();
    private ushort _entries;
    private uint _records;

    public ChunkBuilder Simple(byte[] message)
    {
        WriteU32((uint)message.Length);
        _data.Write(message);
        _entries++;
        _records++;
        return this;
    }

    public ChunkBuilder SubBatch(byte compression, params byte[][] messages)
    {
        var raw = new MemoryStream();
        foreach (var m in messages)
        {
            var len = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(len, (uint)m.Length);
            raw.Write(len);
            raw.Write(m);
        }

        byte[] uncompressed = raw.ToArray();
        byte[] payload = uncompressed;
        if (compression == 1)
        {
            var gz = new MemoryStream();
            using (var z = new GZipStream(gz, CompressionLevel.Optimal, leaveOpen: true))
            {
                z.Write(uncompressed);
            }

            payload = gz.ToArray();
        }

        _data.WriteByte((byte)(0x80 | (compression << 4)));
        var u16 = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(u16, (ushort)messages.Length);
        _data.Write(u16);
        WriteU32((uint)uncompressed.Length);
        WriteU32((uint)payload.Length);
        _data.Write(payload);
        _entries++;
        _records += (uint)messages.Length;
        return this;
    }

    /// <summary>
    /// A sub-batch entry with a hand-written header: <paramref name="first"/> (1ccc rrrr), the declared record count,
    /// uncompressed and data lengths, then <paramref name="payload"/> as is. Counts one entry and
    /// <paramref name="countedRecords"/> records (default: the declared count) for the chunk header.
    /// </summary>
    public ChunkBuilder SubBatchRaw(byte first, ushort records, uint uncompressedLength, uint dataLength, byte[] payload, uint? countedRecords = null)
    {
        _data.WriteByte(first);
        var u16 = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(u16, records);
        _data.Write(u16);
        WriteU32(uncompressedLength);
        WriteU32(dataLength);
        _data.Write(payload);
        _entries++;
        _records += countedRecords ?? records;
        return this;
    }

    /// <summary>Appends bytes to the data section without counting an entry or a record.</summary>
    public ChunkBuilder Raw(params byte[] bytes)
    {
        _data.Write(bytes);
        return this;
    }

    /// <summary>The run of <c>size:u32 + message</c> records a sub-batch carries (uncompressed).</summary>
    public static byte[] Records(params byte[][] messages)
    {
        var raw = new MemoryStream();
        foreach (var m in messages)
        {
            var len = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(len, (uint)m.Length);
            raw.Write(len);
            raw.Write(m);
        }

        return raw.ToArray();
    }

    /// <summary>Gzip-compresses <paramref name="data"/> (a gzip stream, as the Java client writes).</summary>
    public static byte[] Gzip(byte[] data)
    {
        var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Optimal, leaveOpen: true))
        {
            z.Write(data);
        }

        return gz.ToArray();
    }

    /// <summary>
    /// The chunk. <paramref name="entries"/> and <paramref name="records"/> override the counted NumEntries and
    /// NumRecords (to build lying headers).
    /// </summary>
    public byte[] Build(ulong chunkId, long timestamp = 1_700_000_000_000, byte type = 0, uint? crc = null, int prefix = 0, ushort? entries = null, uint? records = null)
    {
        byte[] data = _data.ToArray();
        var chunk = new byte[prefix + ChunkHeader.Size + data.Length];
        var h = chunk.AsSpan(prefix);
        h[0] = 0x50;
        h[1] = type;
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], entries ?? _entries);
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], records ?? _records);
        BinaryPrimitives.WriteInt64BigEndian(h[8..], timestamp);
        BinaryPrimitives.WriteUInt64BigEndian(h[16..], 1);
        BinaryPrimitives.WriteUInt64BigEndian(h[24..], chunkId);
        BinaryPrimitives.WriteUInt32BigEndian(h[32..], crc ?? ReferenceCrc(data));
        BinaryPrimitives.WriteUInt32BigEndian(h[36..], (uint)data.Length);
        data.CopyTo(h[48..]);
        return chunk;
    }

    private void WriteU32(uint value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, value);
        _data.Write(b);
    }

    private static uint ReferenceCrc(byte[] data)
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
