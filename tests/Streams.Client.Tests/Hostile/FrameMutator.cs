using System.Buffers.Binary;
using Streams.Client.Consumers;

namespace Streams.Client.Tests.Hostile;

internal enum MutationKind
{
    BitFlip,
    InsertBytes,
    DeleteBytes,
    InterestingByte,
    InterestingField,
}

/// <summary>One applied mutation, described well enough to redo it by hand.</summary>
internal readonly record struct Mutation(MutationKind Kind, FrameRegion Region, int Position, string Detail)
{
    public override string ToString() => $"{Kind} in {Region} at byte {Position}: {Detail}";
}

/// <summary>A mutated frame: the bytes to send and what was done to the valid original.</summary>
internal sealed record MutatedFrame(byte[] Bytes, FuzzFrame Original, IReadOnlyList<Mutation> Mutations, bool SizePrefixTouched, bool CrcRecomputed)
{
    public string Describe() =>
        $"{Original.Description}; {string.Join("; ", Mutations)}{(CrcRecomputed ? "; chunk CRC recomputed" : string.Empty)}{(SizePrefixTouched ? "; size prefix left as mutated" : "; size prefix refitted")}";
}

/// <summary>
/// Seeded mutations of valid frames: bit flips, byte inserts and deletes, single bytes overwritten with interesting
/// values (0x00, 0xFF, 0x7F, 0x80), and known fields (size prefix, chunk header counts and lengths, entry lengths,
/// sub-batch headers, confirm counts) overwritten with boundary values such as 0xFFFFFFFF. Unless the size prefix itself
/// was mutated, it is refitted to the new length so the mutation reaches the frame parser instead of desynchronising the
/// stream. Deliver frames get a fresh chunk CRC when asked, so mutations also reach the chunk parser past the CRC check.
/// Everything comes from the given <see cref="Random"/>: the same seed gives the same frames.
/// </summary>
internal static class FrameMutator
{
    private static readonly byte[] InterestingBytes = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE];
    private static readonly uint[] Interesting32 = [0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x00000000, 0x00000001, 0x0000FFFF, 0x00010000, 0x7FFFFFFE];
    private static readonly ushort[] Interesting16 = [0xFFFF, 0x8000, 0x7FFF, 0x0000, 0x0001];
    private static readonly ulong[] Interesting64 = [ulong.MaxValue, 0x8000000000000000, 0x7FFFFFFFFFFFFFFF, 0, 1];

    /// <summary>Region weights in percent: size prefix, command header, chunk header (or confirm counts), entries (or ids).</summary>
    private static readonly int[] RegionWeights = [5, 15, 40, 40];

    public static MutatedFrame Mutate(Random rng, FuzzFrame original, bool recomputeCrc)
    {
        var bytes = new List<byte>(original.Bytes);
        var mutations = new List<Mutation>();
        int count = rng.Next(10) switch { < 7 => 1, < 9 => 2, _ => 3 };
        bool sizeTouched = false;
        for (int m = 0; m < count; m++)
        {
            var mutation = MutateOnce(rng, original, bytes);
            sizeTouched |= mutation.Region == FrameRegion.SizePrefix;
            mutations.Add(mutation);
        }

        var result = bytes.ToArray();
        if (!sizeTouched && result.Length >= 4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(result, (uint)(result.Length - 4));
        }

        bool crc = recomputeCrc && original.ChunkStart >= 0 && RefitCrc(result);
        return new MutatedFrame(result, original, mutations, sizeTouched, crc);
    }

    private static Mutation MutateOnce(Random rng, FuzzFrame original, List<byte> bytes)
    {
        var region = PickRegion(rng);
        var (start, end) = original.Region(region);
        end = Math.Min(end, bytes.Count);
        start = Math.Min(start, Math.Max(0, bytes.Count - 1));
        if (end <= start)
        {
            end = Math.Min(bytes.Count, start + 1);
        }

        var kind = (MutationKind)rng.Next(5);
        if (region == FrameRegion.SizePrefix && kind is MutationKind.InsertBytes or MutationKind.DeleteBytes)
        {
            kind = MutationKind.InterestingField;
        }

        int position = start + rng.Next(Math.Max(1, end - start));
        switch (kind)
        {
            case MutationKind.BitFlip:
                {
                    int bit = rng.Next(8);
                    bytes[position] ^= (byte)(1 << bit);
                    return new(kind, region, position, $"flip bit {bit} → 0x{bytes[position]:x2}");
                }

            case MutationKind.InsertBytes:
                {
                    int n = rng.Next(3) == 0 ? rng.Next(5, 17) : rng.Next(1, 5);
                    var inserted = new byte[n];
                    if (rng.Next(2) == 0)
                    {
                        rng.NextBytes(inserted);
                    }
                    else
                    {
                        Array.Fill(inserted, InterestingBytes[rng.Next(InterestingBytes.Length)]);
                    }

                    bytes.InsertRange(position, inserted);
                    return new(kind, region, position, $"insert {n} bytes {Convert.ToHexString(inserted)}");
                }

            case MutationKind.DeleteBytes:
                {
                    int n = Math.Min(rng.Next(3) == 0 ? rng.Next(5, 17) : rng.Next(1, 5), bytes.Count - position);
                    bytes.RemoveRange(position, n);
                    return new(kind, region, position, $"delete {n} bytes");
                }

            case MutationKind.InterestingByte:
                {
                    byte value = InterestingBytes[rng.Next(InterestingBytes.Length)];
                    bytes[position] = value;
                    return new(kind, region, position, $"byte := 0x{value:x2}");
                }

            default:
                {
                    var fields = original.Fields.Where(f => f.Position >= start && f.Position < Math.Max(end, start + 1) && f.Position + f.Width <= bytes.Count).ToList();
                    if (fields.Count == 0)
                    {
                        fields = original.Fields.Where(f => f.Position + f.Width <= bytes.Count).ToList();
                    }

                    var field = fields[rng.Next(fields.Count)];
                    if (field.Name == "size")
                    {
                        region = FrameRegion.SizePrefix;
                    }

                    string value = OverwriteField(rng, bytes, field);
                    return new(MutationKind.InterestingField, region, field.Position, $"{field.Name} := {value}");
                }
        }
    }

    private static FrameRegion PickRegion(Random rng)
    {
        int roll = rng.Next(100);
        for (int i = 0; i < RegionWeights.Length; i++)
        {
            if (roll < RegionWeights[i])
            {
                return (FrameRegion)i;
            }

            roll -= RegionWeights[i];
        }

        return FrameRegion.Entries;
    }

    private static string OverwriteField(Random rng, List<byte> bytes, FrameField field)
    {
        Span<byte> span = stackalloc byte[8];
        for (int i = 0; i < field.Width; i++)
        {
            span[i] = bytes[field.Position + i];
        }

        bool delta = rng.Next(3) == 0;
        string text;
        switch (field.Width)
        {
            case 1:
                {
                    byte v = delta ? (byte)(span[0] + (rng.Next(2) == 0 ? 1 : -1)) : InterestingBytes[rng.Next(InterestingBytes.Length)];
                    span[0] = v;
                    text = $"0x{v:x2}";
                    break;
                }

            case 2:
                {
                    ushort old = BinaryPrimitives.ReadUInt16BigEndian(span);
                    ushort v = delta ? (ushort)(old + rng.Next(-2, 3)) : Interesting16[rng.Next(Interesting16.Length)];
                    BinaryPrimitives.WriteUInt16BigEndian(span, v);
                    text = $"0x{v:x4} (was 0x{old:x4})";
                    break;
                }

            case 4:
                {
                    uint old = BinaryPrimitives.ReadUInt32BigEndian(span);
                    uint v = delta ? (uint)(old + rng.Next(-4, 5)) : Interesting32[rng.Next(Interesting32.Length)];
                    BinaryPrimitives.WriteUInt32BigEndian(span, v);
                    text = $"0x{v:x8} (was 0x{old:x8})";
                    break;
                }

            default:
                {
                    ulong old = BinaryPrimitives.ReadUInt64BigEndian(span);
                    ulong v = delta ? old + (ulong)rng.Next(-3, 4) : Interesting64[rng.Next(Interesting64.Length)];
                    BinaryPrimitives.WriteUInt64BigEndian(span, v);
                    text = $"0x{v:x16} (was 0x{old:x16})";
                    break;
                }
        }

        for (int i = 0; i < field.Width; i++)
        {
            bytes[field.Position + i] = span[i];
        }

        return text;
    }

    /// <summary>
    /// Writes the CRC-32 of the entry bytes the client will check (DataLength bytes after the 48-byte header, located
    /// from the frame's own, possibly mutated, key and version), when the frame still looks like a Deliver with room
    /// for them. Returns whether it did.
    /// </summary>
    public static bool RefitCrc(byte[] frame)
    {
        if (frame.Length < 8 || BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(4)) != 0x0008)
        {
            return false;
        }

        ushort version = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(6));
        int chunkStart = 4 + (version >= 2 ? 13 : 5);
        if (frame.Length < chunkStart + 48)
        {
            return false;
        }

        uint dataLength = BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(chunkStart + 36));
        if (dataLength > (uint)(frame.Length - chunkStart - 48))
        {
            return false;
        }

        uint crc = ReferenceDecoder.Crc32(frame.AsSpan(chunkStart + 48, (int)dataLength));
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(chunkStart + 32), crc);
        return true;
    }

}
