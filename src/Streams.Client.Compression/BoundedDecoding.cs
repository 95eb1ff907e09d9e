using System.Runtime.InteropServices;

namespace Streams.Client.Compression;

/// <summary>Reads a decompressing stream into the announced-size buffer, never past it.</summary>
internal static class BoundedDecoding
{
    /// <summary>A read-only stream over <paramref name="source"/> (its array when it has one, else a copy).</summary>
    public static MemoryStream Open(ReadOnlyMemory<byte> source) =>
        MemoryMarshal.TryGetArray(source, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(source.ToArray(), writable: false);

    /// <summary>
    /// Fills <paramref name="destination"/> from <paramref name="decoder"/> and returns the bytes read; when it is full,
    /// one more byte is asked for, and any means the data decompresses to more than announced.
    /// </summary>
    /// <exception cref="InvalidDataException">The data decompresses to more than <paramref name="destination"/> holds.</exception>
    public static int Fill(Stream decoder, Span<byte> destination, string codec)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int read = decoder.Read(destination[total..]);
            if (read == 0)
            {
                return total;
            }

            total += read;
        }

        Span<byte> probe = stackalloc byte[1];
        if (decoder.Read(probe) != 0)
        {
            throw new InvalidDataException($"The {codec} data decompresses to more than the announced {destination.Length} bytes.");
        }

        return total;
    }
}
