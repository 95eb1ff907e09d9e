using System.Buffers.Binary;
using System.IO.Compression;
using Streams.Client;
using Streams.Client.Consumers;

namespace Streams.Benchmarks;

/// <summary>Builds osiris chunks (protocol §5) with a correct header and CRC-32 for the parsing benchmarks.</summary>
internal static class ChunkData
{
    /// <summary>A user chunk of <paramref name="count"/> simple entries of <paramref name="size"/> bytes each.</summary>
    public static byte[] Simple(int count, int size, ulong chunkId = 1_000)
    {
        var data = new byte[count * (4 + size)];
        var random = new Random(42);
        for (int i = 0; i < count; i++)
        {
            var entry = data.AsSpan(i * (4 + size), 4 + size);
            BinaryPrimitives.WriteUInt32BigEndian(entry, (uint)size);
            random.NextBytes(entry[4..]);
        }

        return Wrap(data, (ushort)count, (uint)count, chunkId);
    }

    /// <summary>
    /// A user chunk of <paramref name="batches"/> sub-batch entries, each of <paramref name="recordsPerBatch"/> records
    /// of <paramref name="size"/> bytes, compressed with <paramref name="compression"/> (none or gzip).
    /// </summary>
    public static byte[] SubBatches(int batches, int recordsPerBatch, int size, CompressionType compression, ulong chunkId = 1_000)
    {
        using var data = new MemoryStream();
        var random = new Random(42);
        Span<byte> head = stackalloc byte[11];
        for (int b = 0; b < batches; b++)
        {
            var raw = new byte[recordsPerBatch * (4 + size)];
            for (int i = 0; i < recordsPerBatch; i++)
            {
                var record = raw.AsSpan(i * (4 + size), 4 + size);
                BinaryPrimitives.WriteUInt32BigEndian(record, (uint)size);

                // Text-like, compressible payloads (as JSON events would be), not random bytes.
                for (int j = 4; j < record.Length; j++)
                {
                    record[j] = (byte)('a' + random.Next(0, 8));
                }
            }

            byte[] payload = compression switch
            {
                CompressionType.None => raw,
                CompressionType.Gzip => Gzip(raw),
                _ => throw new ArgumentOutOfRangeException(nameof(compression), compression, "Only none and gzip are built in."),
            };

            head[0] = (byte)(0x80 | ((byte)compression << 4));
            BinaryPrimitives.WriteUInt16BigEndian(head[1..], (ushort)recordsPerBatch);
            BinaryPrimitives.WriteUInt32BigEndian(head[3..], (uint)raw.Length);
            BinaryPrimitives.WriteUInt32BigEndian(head[7..], (uint)payload.Length);
            data.Write(head);
            data.Write(payload);
        }

        return Wrap(data.ToArray(), (ushort)batches, (uint)(batches * recordsPerBatch), chunkId);
    }

    private static byte[] Gzip(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(raw);
        }

        return output.ToArray();
    }

    private static byte[] Wrap(byte[] data, ushort entries, uint records, ulong chunkId)
    {
        var chunk = new byte[ChunkHeader.Size + data.Length];
        var h = chunk.AsSpan();
        h[0] = ChunkHeader.MagicVersion;
        h[1] = ChunkHeader.UserChunkType;
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], entries);
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], records);
        BinaryPrimitives.WriteInt64BigEndian(h[8..], 1_763_700_000_000);
        BinaryPrimitives.WriteUInt64BigEndian(h[16..], 1);
        BinaryPrimitives.WriteUInt64BigEndian(h[24..], chunkId);
        BinaryPrimitives.WriteUInt32BigEndian(h[32..], System.IO.Hashing.Crc32.HashToUInt32(data));
        BinaryPrimitives.WriteUInt32BigEndian(h[36..], (uint)data.Length);
        data.CopyTo(h[ChunkHeader.Size..]);
        return chunk;
    }
}
