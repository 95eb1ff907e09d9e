using System.Buffers;
using System.IO.Compression;
using Snappier;

namespace Streams.Client.Compression;

/// <summary>
/// Snappy sub-entry codec (code 2) in the Snappy <em>framing</em> format (stream identifier chunk <c>sNaPpY</c>, then
/// compressed or uncompressed chunks of at most 64 KiB, each with a masked CRC-32C), as the Java client
/// (<c>SnappyFramedOutputStream</c>) and the Go client (<c>snappy.NewBufferedWriter</c>) write it. On Snappier.
/// </summary>
internal sealed class SnappyCompressionCodec : ICompressionCodec
{
    public static readonly SnappyCompressionCodec Instance = new();

    public CompressionType Type => CompressionType.Snappy;

    public void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var buffer = new MemoryStream(Snappy.GetMaxCompressedLength(source.Length) + 32);
        using (var snappy = new SnappyStream(buffer, CompressionMode.Compress, leaveOpen: true))
        {
            snappy.Write(source);
        }

        destination.Write(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    public int Decompress(ReadOnlyMemory<byte> source, Span<byte> destination)
    {
        using var input = BoundedDecoding.Open(source);
        using var snappy = new SnappyStream(input, CompressionMode.Decompress);
        return BoundedDecoding.Fill(snappy, destination, "Snappy");
    }
}
