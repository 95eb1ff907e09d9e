using System.Buffers.Binary;
using Streams.Client.Tests.Consumers;

namespace Streams.Client.Tests.Hostile;

/// <summary>A field of a generated frame: where it is (from the start of the size prefix) and how wide.</summary>
internal readonly record struct FrameField(string Name, int Position, int Width);

/// <summary>Which part of a frame a byte belongs to; mutations pick a region first, then a position in it.</summary>
internal enum FrameRegion
{
    SizePrefix,
    CommandHeader,
    ChunkHeader,
    Entries,
}

/// <summary>One valid generated frame (size prefix included) with its layout and what a correct client makes of it.</summary>
internal sealed class FuzzFrame
{
    public required byte[] Bytes { get; init; }

    public required string Description { get; init; }

    public List<FrameField> Fields { get; } = [];

    /// <summary>Start of each region (from the size prefix); a region ends where the next starts.</summary>
    public required int[] RegionStarts { get; init; }

    /// <summary>For Deliver frames: the start of the chunk inside <see cref="Bytes"/>.</summary>
    public int ChunkStart { get; init; } = -1;

    /// <summary>Deliver: the records (offset, body) in order. PublishConfirm: empty.</summary>
    public IReadOnlyList<(ulong Offset, byte[] Body)> Records { get; init; } = [];

    /// <summary>PublishConfirm: the confirmed publishing ids.</summary>
    public IReadOnlyList<ulong> ConfirmedIds { get; init; } = [];

    public (int Start, int End) Region(FrameRegion region)
    {
        int i = (int)region;
        int start = RegionStarts[i];
        int end = i + 1 < RegionStarts.Length ? RegionStarts[i + 1] : Bytes.Length;
        return (start, end);
    }
}

/// <summary>Builds valid Deliver (v1/v2; simple entries and none/gzip sub-batches, correct CRC) and PublishConfirm frames from a seeded random source.</summary>
internal static class FuzzFrames
{
    public const int SizePrefix = 4;

    /// <summary>A valid Deliver frame for <paramref name="subscriptionId"/> whose chunk starts at <paramref name="chunkId"/>.</summary>
    public static FuzzFrame Deliver(Random rng, byte subscriptionId, ulong chunkId, bool? v2 = null)
    {
        bool version2 = v2 ?? rng.Next(2) == 0;
        var builder = new ChunkBuilder();
        var records = new List<(ulong, byte[])>();
        var entryLayout = new List<(string Kind, int Records, int DataLength, byte Compression, int[] Sizes)>();
        int entries = rng.Next(1, 5);
        ulong offset = chunkId;
        var description = new System.Text.StringBuilder(version2 ? "Deliver v2 [" : "Deliver v1 [");
        for (int e = 0; e < entries; e++)
        {
            int kind = rng.Next(4);
            if (kind <= 1)
            {
                var body = Body(rng, offset);
                builder.Simple(body);
                records.Add((offset++, body));
                entryLayout.Add(("simple", 1, body.Length, 0, [body.Length]));
                description.Append(" simple");
            }
            else
            {
                byte compression = (byte)(kind - 2);
                int n = rng.Next(1, 5);
                var bodies = new byte[n][];
                for (int i = 0; i < n; i++)
                {
                    bodies[i] = Body(rng, offset);
                    records.Add((offset++, bodies[i]));
                }

                builder.SubBatch(compression, bodies);
                entryLayout.Add(("batch", n, 0, compression, bodies.Select(b => b.Length).ToArray()));
                description.Append(compression == 0 ? $" none×{n}" : $" gzip×{n}");
            }
        }

        description.Append(" ] chunk ").Append(chunkId);
        byte[] chunk = builder.Build(chunkId, timestamp: 1_700_000_000_000 + (long)chunkId);
        int commandHeader = version2 ? 13 : 5;
        int chunkStart = SizePrefix + commandHeader;
        var bytes = new byte[chunkStart + chunk.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)(bytes.Length - SizePrefix));
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), 0x0008);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(6), version2 ? (ushort)2 : (ushort)1);
        bytes[8] = subscriptionId;
        if (version2)
        {
            BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(9), chunkId + (ulong)records.Count - 1);
        }

        chunk.CopyTo(bytes, chunkStart);
        var frame = new FuzzFrame
        {
            Bytes = bytes,
            Description = description.ToString(),
            RegionStarts = [0, SizePrefix, chunkStart, chunkStart + 48],
            ChunkStart = chunkStart,
            Records = records,
        };
        frame.Fields.Add(new("size", 0, 4));
        frame.Fields.Add(new("key", 4, 2));
        frame.Fields.Add(new("version", 6, 2));
        frame.Fields.Add(new("subscriptionId", 8, 1));
        if (version2)
        {
            frame.Fields.Add(new("committedChunkId", 9, 8));
        }

        frame.Fields.Add(new("magic", chunkStart, 1));
        frame.Fields.Add(new("chunkType", chunkStart + 1, 1));
        frame.Fields.Add(new("numEntries", chunkStart + 2, 2));
        frame.Fields.Add(new("numRecords", chunkStart + 4, 4));
        frame.Fields.Add(new("chunkId", chunkStart + 24, 8));
        frame.Fields.Add(new("crc", chunkStart + 32, 4));
        frame.Fields.Add(new("dataLength", chunkStart + 36, 4));
        frame.Fields.Add(new("trailerLength", chunkStart + 40, 4));
        frame.Fields.Add(new("bloomSize", chunkStart + 44, 1));
        int p = chunkStart + 48;
        int index = 0;
        foreach (var (kind, n, length, compression, sizes) in entryLayout)
        {
            if (kind == "simple")
            {
                frame.Fields.Add(new($"entry{index}.length", p, 4));
                p += 4 + length;
            }
            else
            {
                frame.Fields.Add(new($"entry{index}.batchType", p, 1));
                frame.Fields.Add(new($"entry{index}.records", p + 1, 2));
                frame.Fields.Add(new($"entry{index}.uncompressed", p + 3, 4));
                frame.Fields.Add(new($"entry{index}.dataLength", p + 7, 4));
                int dataLength = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(p + 7));
                if (compression == 0)
                {
                    int q = p + 11;
                    for (int r = 0; r < n; r++)
                    {
                        frame.Fields.Add(new($"entry{index}.record{r}.size", q, 4));
                        q += 4 + sizes[r];
                    }
                }

                p += 11 + dataLength;
            }

            index++;
        }

        return frame;
    }

    /// <summary>A valid PublishConfirm frame.</summary>
    public static FuzzFrame PublishConfirm(byte publisherId, IReadOnlyList<ulong> ids)
    {
        var bytes = new byte[SizePrefix + 4 + 1 + 4 + (8 * ids.Count)];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)(bytes.Length - SizePrefix));
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), 0x0003);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(6), 1);
        bytes[8] = publisherId;
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(9), (uint)ids.Count);
        for (int i = 0; i < ids.Count; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(13 + (8 * i)), ids[i]);
        }

        var frame = new FuzzFrame
        {
            Bytes = bytes,
            Description = $"PublishConfirm pub {publisherId} ids [{string.Join(",", ids)}]",
            RegionStarts = [0, SizePrefix, 8, 13],
            ConfirmedIds = ids.ToArray(),
        };
        frame.Fields.Add(new("size", 0, 4));
        frame.Fields.Add(new("key", 4, 2));
        frame.Fields.Add(new("version", 6, 2));
        frame.Fields.Add(new("publisherId", 8, 1));
        frame.Fields.Add(new("count", 9, 4));
        for (int i = 0; i < ids.Count; i++)
        {
            frame.Fields.Add(new($"id{i}", 13 + (8 * i), 8));
        }

        return frame;
    }

    /// <summary>A message body: 0–48 random bytes, the first ones carrying the offset when long enough (bodies differ).</summary>
    private static byte[] Body(Random rng, ulong offset)
    {
        int length = rng.Next(8) == 0 ? rng.Next(0, 4) : rng.Next(8, 49);
        var body = new byte[length];
        rng.NextBytes(body);
        if (length >= 8)
        {
            BinaryPrimitives.WriteUInt64BigEndian(body, offset);
        }

        return body;
    }
}
