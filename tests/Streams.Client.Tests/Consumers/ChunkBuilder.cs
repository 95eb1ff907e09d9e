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

    public byte[] Build(ulong chunkId, long timestamp = 1_700_000_000_000, byte type = 0, uint? crc = null, int prefix = 0)
    {
        byte[] data = _data.ToArray();
        var chunk = new byte[prefix + ChunkHeader.Size + data.Length];
        var h = chunk.AsSpan(prefix);
        h[0] = 0x50;
        h[1] = type;
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], _entries);
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], _records);
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
