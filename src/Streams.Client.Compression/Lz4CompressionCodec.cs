using System.Buffers;
using K4os.Compression.LZ4;
using K4os.Compression.LZ4.Streams;

namespace Streams.Client.Compression;

/// <summary>
/// LZ4 sub-entry codec (code 3) in the LZ4 <em>frame</em> format (magic 0x184D2204). Writes 64 KiB independent blocks
/// without checksums, as the Java client does, but without the optional content size (the library does not write it;
/// the sub-entry header carries the size anyway). Reads any frame other clients write: blocks of
/// 64 KiB to 4 MiB, linked or independent, with or without content size, content checksum and block checksums (the Go
/// client writes 4 MiB blocks with a content checksum). On K4os.Compression.LZ4.Streams; the decoder holds at most one
/// block (4 MiB) besides the output.
/// </summary>
internal sealed class Lz4CompressionCodec : ICompressionCodec
{
    public static readonly Lz4CompressionCodec Instance = new();

    public CompressionType Type => CompressionType.Lz4;

    public void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var settings = new LZ4EncoderSettings
        {
            BlockSize = 64 * 1024,
            ChainBlocks = false,
            ContentChecksum = false,
            BlockChecksum = false,
            CompressionLevel = LZ4Level.L00_FAST,
        };
        LZ4Frame.Encode(source, destination, settings);
    }

    public int Decompress(ReadOnlyMemory<byte> source, Span<byte> destination)
    {
        using var input = BoundedDecoding.Open(source);
        using var lz4 = LZ4Stream.Decode(input, leaveOpen: false);
        return BoundedDecoding.Fill(lz4, destination, "LZ4");
    }
}
