using System.Buffers;
using ZstdSharp;

namespace Streams.Client.Compression;

/// <summary>
/// Zstandard sub-entry codec (code 4): standard frames (magic 0xFD2FB528). Reads frames with or without the content
/// size (the Java and Go clients write them without), with or without checksum, and several frames back to back.
/// Decompresses in one pass straight into the announced-size buffer, so a hostile frame header (a huge window or
/// content size) allocates nothing: output beyond the announced size is an error. On ZstdSharp.Port.
/// </summary>
internal sealed class ZstdCompressionCodec : ICompressionCodec
{
    public static readonly ZstdCompressionCodec Instance = new();

    private const int Level = 3;

    [ThreadStatic]
    private static Decompressor? t_decompressor;

    [ThreadStatic]
    private static Compressor? t_compressor;

    public CompressionType Type => CompressionType.Zstd;

    public void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var compressor = t_compressor ??= new Compressor(Level);
        var span = destination.GetSpan(Compressor.GetCompressBound(source.Length));
        int written = compressor.Wrap(source, span);
        destination.Advance(written);
    }

    public int Decompress(ReadOnlyMemory<byte> source, Span<byte> destination)
    {
        var decompressor = t_decompressor ??= new Decompressor();
        try
        {
            return decompressor.Unwrap(source.Span, destination);
        }
        catch (ZstdException ex)
        {
            // The context may be left mid-frame: start the next batch with a fresh one.
            t_decompressor = null;
            decompressor.Dispose();
            throw new InvalidDataException($"The Zstd data is invalid or decompresses to more than the announced {destination.Length} bytes: {ex.Message}", ex);
        }
    }
}
