using System.Buffers.Binary;

namespace Streams.Client.Consumers;

/// <summary>The 48-byte header of an osiris chunk (protocol §5).</summary>
internal readonly struct ChunkHeader
{
    public const int Size = 48;
    public const byte MagicVersion = 0x50;
    public const byte UserChunkType = 0;

    public byte ChunkType { get; init; }

    public ushort NumEntries { get; init; }

    public uint NumRecords { get; init; }

    public long Timestamp { get; init; }

    public ulong Epoch { get; init; }

    public ulong ChunkId { get; init; }

    public uint Crc { get; init; }

    public uint DataLength { get; init; }

    public uint TrailerLength { get; init; }

    public byte BloomSize { get; init; }

    public bool IsUserChunk => ChunkType == UserChunkType;

    /// <summary>Reads and validates the header; the entry data must be present after it.</summary>
    /// <param name="chunk">The chunk.</param>
    /// <param name="stream">The stream it was read from, for error messages.</param>
    /// <exception cref="ChunkFormatException">The chunk is truncated or has a bad magic byte.</exception>
    public static ChunkHeader Read(ReadOnlySpan<byte> chunk, string? stream = null)
    {
        if (chunk.Length < Size)
        {
            throw new ChunkFormatException($"A chunk{Of(stream)} needs at least {Size} header bytes; got {chunk.Length}.", null, stream);
        }

        if (chunk[0] != MagicVersion)
        {
            ulong id = BinaryPrimitives.ReadUInt64BigEndian(chunk[24..]);
            throw new ChunkFormatException($"Chunk {id}{Of(stream)} has a bad magic/version byte 0x{chunk[0]:x2} (expected 0x50).", id, stream);
        }

        var header = new ChunkHeader
        {
            ChunkType = chunk[1],
            NumEntries = BinaryPrimitives.ReadUInt16BigEndian(chunk[2..]),
            NumRecords = BinaryPrimitives.ReadUInt32BigEndian(chunk[4..]),
            Timestamp = BinaryPrimitives.ReadInt64BigEndian(chunk[8..]),
            Epoch = BinaryPrimitives.ReadUInt64BigEndian(chunk[16..]),
            ChunkId = BinaryPrimitives.ReadUInt64BigEndian(chunk[24..]),
            Crc = BinaryPrimitives.ReadUInt32BigEndian(chunk[32..]),
            DataLength = BinaryPrimitives.ReadUInt32BigEndian(chunk[36..]),
            TrailerLength = BinaryPrimitives.ReadUInt32BigEndian(chunk[40..]),
            BloomSize = chunk[44],
        };

        if (header.DataLength > (uint)(chunk.Length - Size))
        {
            throw new ChunkFormatException(
                $"Chunk {header.ChunkId}{Of(stream)} announces {header.DataLength} data bytes but only {chunk.Length - Size} follow the header.",
                header.ChunkId,
                stream);
        }

        return header;
    }

    private static string Of(string? stream) => stream is null ? string.Empty : $" of stream {stream}";

    /// <summary>The entry bytes of <paramref name="chunk"/> (after the header, <see cref="DataLength"/> long).</summary>
    public ReadOnlySpan<byte> Data(ReadOnlySpan<byte> chunk) => chunk.Slice(Size, (int)DataLength);

    /// <summary>Whether the CRC-32 of the entry bytes matches <see cref="Crc"/>.</summary>
    public bool IsCrcValid(ReadOnlySpan<byte> chunk) => System.IO.Hashing.Crc32.HashToUInt32(Data(chunk)) == Crc;
}
