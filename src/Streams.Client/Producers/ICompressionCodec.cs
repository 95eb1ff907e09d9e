using System.Buffers;

namespace Streams.Client;

/// <summary>
/// Compresses and decompresses the data of sub-entry batches. <see cref="CompressionType.None"/> and
/// <see cref="CompressionType.Gzip"/> are built in; register others with <see cref="CompressionCodecs.Register"/>.
/// Implementations must be thread-safe.
/// </summary>
public interface ICompressionCodec
{
    /// <summary>The compression this codec implements.</summary>
    CompressionType Type { get; }

    /// <summary>Compresses <paramref name="source"/> and appends the result to <paramref name="destination"/>.</summary>
    /// <param name="source">The uncompressed bytes.</param>
    /// <param name="destination">Where the compressed bytes go.</param>
    void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination);

    /// <summary>
    /// Decompresses <paramref name="source"/> into <paramref name="destination"/>, whose length is the announced
    /// uncompressed size, and returns the number of bytes written.
    /// </summary>
    /// <param name="source">The compressed bytes.</param>
    /// <param name="destination">Where the uncompressed bytes go.</param>
    int Decompress(ReadOnlyMemory<byte> source, Span<byte> destination);
}
