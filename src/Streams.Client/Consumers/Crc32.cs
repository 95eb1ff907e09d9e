using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Streams.Client.Consumers;

/// <summary>
/// CRC-32 (IEEE 802.3 / zlib: reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF),
/// computed with a slice-by-16 table. Used to validate chunk data (protocol §5).
/// </summary>
internal static class Crc32
{
    private const uint Polynomial = 0xEDB88320u;

    // 16 tables of 256 entries, back to back: Table[k * 256 + b].
    private static readonly uint[] Table = BuildTable();

    /// <summary>The CRC-32 of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(0xFFFFFFFFu, data);

    /// <summary>
    /// Continues a running (non-finalised) CRC: start with 0xFFFFFFFF and finish with a bitwise NOT.
    /// </summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        ref uint t = ref MemoryMarshal.GetArrayDataReference(Table);
        ref byte p = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        nuint i = 0;

        while (length - i >= 16)
        {
            uint a = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i));
            uint b = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 4));
            uint c = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 8));
            uint d = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 12));
            if (!BitConverter.IsLittleEndian)
            {
                a = BinaryPrimitives.ReverseEndianness(a);
                b = BinaryPrimitives.ReverseEndianness(b);
                c = BinaryPrimitives.ReverseEndianness(c);
                d = BinaryPrimitives.ReverseEndianness(d);
            }

            a ^= crc;
            crc = Unsafe.Add(ref t, (15 * 256) + (int)(a & 0xFF))
                ^ Unsafe.Add(ref t, (14 * 256) + (int)((a >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, (13 * 256) + (int)((a >> 16) & 0xFF))
                ^ Unsafe.Add(ref t, (12 * 256) + (int)(a >> 24))
                ^ Unsafe.Add(ref t, (11 * 256) + (int)(b & 0xFF))
                ^ Unsafe.Add(ref t, (10 * 256) + (int)((b >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, (9 * 256) + (int)((b >> 16) & 0xFF))
                ^ Unsafe.Add(ref t, (8 * 256) + (int)(b >> 24))
                ^ Unsafe.Add(ref t, (7 * 256) + (int)(c & 0xFF))
                ^ Unsafe.Add(ref t, (6 * 256) + (int)((c >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, (5 * 256) + (int)((c >> 16) & 0xFF))
                ^ Unsafe.Add(ref t, (4 * 256) + (int)(c >> 24))
                ^ Unsafe.Add(ref t, (3 * 256) + (int)(d & 0xFF))
                ^ Unsafe.Add(ref t, (2 * 256) + (int)((d >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, (1 * 256) + (int)((d >> 16) & 0xFF))
                ^ Unsafe.Add(ref t, (int)(d >> 24));
            i += 16;
        }

        while (i < length)
        {
            crc = (crc >> 8) ^ Unsafe.Add(ref t, (int)((crc ^ Unsafe.Add(ref p, i)) & 0xFF));
            i++;
        }

        return crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[16 * 256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? Polynomial ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        for (int n = 0; n < 256; n++)
        {
            uint c = table[n];
            for (int k = 1; k < 16; k++)
            {
                c = table[c & 0xFF] ^ (c >> 8);
                table[(k * 256) + n] = c;
            }
        }

        return table;
    }
}
