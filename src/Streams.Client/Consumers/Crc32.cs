using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Streams.Client.Consumers;

/// <summary>
/// CRC-32 (IEEE 802.3 / zlib: reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF). Used to
/// validate chunk data (protocol §5). On x86 with carry-less multiplication (PCLMULQDQ) the bulk is folded 64 bytes
/// at a time (the method of Intel's "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ"), the tail and
/// other platforms use a slice-by-16 table.
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
        if (Pclmulqdq.IsSupported && Sse41.IsSupported && data.Length >= 64)
        {
            var folded = data.Length & ~15;
            crc = UpdateFolded(crc, data[..folded]);
            data = data[folded..];
        }

        return UpdateTable(crc, data);
    }

    /// <summary>The table-driven CRC (any length, any platform).</summary>
    internal static uint UpdateTable(uint crc, ReadOnlySpan<byte> data)
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

    /// <summary>
    /// Folds <paramref name="data"/> (at least 64 bytes, a multiple of 16) with carry-less multiplications: four
    /// 128-bit lanes are folded forward by 512 bits per step, then into one lane, then reduced to 64 and to 32 bits
    /// (Barrett). The constants are x^k mod P for the reflected polynomial, shifted as the method requires:
    /// k1 = x^(4*128+32), k2 = x^(4*128-32), k3 = x^(128+32), k4 = x^(128-32), k5 = x^64, and P' and the Barrett
    /// quotient u' = x^64 / P.
    /// </summary>
    private static uint UpdateFolded(uint crc, ReadOnlySpan<byte> data)
    {
        var fold4 = Vector128.Create(0x0154442bd4UL, 0x01c6e41596UL);
        var fold1 = Vector128.Create(0x01751997d0UL, 0x00ccaa009eUL);
        var fold64 = Vector128.Create(0x0163cd6124UL, 0UL);
        var barrett = Vector128.Create(0x01db710641UL, 0x01f7011641UL);
        var low32 = Vector128.Create(~0u, 0u, ~0u, 0u).AsUInt64();

        ref byte p = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        var x1 = Load(ref p, 0) ^ Vector128.CreateScalar(crc).AsUInt64();
        var x2 = Load(ref p, 16);
        var x3 = Load(ref p, 32);
        var x4 = Load(ref p, 48);
        nuint i = 64;
        while (length - i >= 64)
        {
            x1 = Fold(x1, fold4) ^ Load(ref p, i);
            x2 = Fold(x2, fold4) ^ Load(ref p, i + 16);
            x3 = Fold(x3, fold4) ^ Load(ref p, i + 32);
            x4 = Fold(x4, fold4) ^ Load(ref p, i + 48);
            i += 64;
        }

        x1 = Fold(x1, fold1) ^ x2;
        x1 = Fold(x1, fold1) ^ x3;
        x1 = Fold(x1, fold1) ^ x4;
        while (length - i >= 16)
        {
            x1 = Fold(x1, fold1) ^ Load(ref p, i);
            i += 16;
        }

        // 128 -> 64 bits, then 64 -> 32 (Barrett reduction).
        x1 = Sse2.ShiftRightLogical128BitLane(x1, 8) ^ Pclmulqdq.CarrylessMultiply(x1, fold1, 0x10);
        x1 = Pclmulqdq.CarrylessMultiply(x1 & low32, fold64, 0x00) ^ Sse2.ShiftRightLogical128BitLane(x1, 4);
        var t = Pclmulqdq.CarrylessMultiply(x1 & low32, barrett, 0x10);
        t = Pclmulqdq.CarrylessMultiply(t & low32, barrett, 0x00);
        return Sse41.Extract((x1 ^ t).AsUInt32(), 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> Fold(Vector128<ulong> x, Vector128<ulong> k) =>
        Pclmulqdq.CarrylessMultiply(x, k, 0x00) ^ Pclmulqdq.CarrylessMultiply(x, k, 0x11);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> Load(ref byte p, nuint offset) =>
        Unsafe.ReadUnaligned<Vector128<ulong>>(ref Unsafe.Add(ref p, offset));

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
