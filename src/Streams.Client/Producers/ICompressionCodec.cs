using System.Buffers;

namespace Streams.Client;

/// <summary>
/// Compresses and decompresses the data of sub-entry batches. <see cref="CompressionType.None"/> and
/// <see cref="CompressionType.Gzip"/> are built in; register others on <see cref="StreamSystemOptions.CompressionCodecs"/>
/// (<see cref="StreamSystemOptions.AddCompressionCodec"/>; Snappy, LZ4 and Zstd are in the <c>Streams.Client.Compression</c> package).
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
    /// <remarks>
    /// The source comes from the network and is untrusted. Throw (e.g. <see cref="InvalidDataException"/>) when it is
    /// corrupt or decompresses to more than <paramref name="destination"/> holds — never truncate silently. The
    /// consumer treats any exception, and any result other than the announced size, as a malformed chunk
    /// (<see cref="ChunkFormatException"/>, with the codec's exception as inner exception). The announced size is
    /// bounded by <see cref="ConsumerOptions.MaxSubEntryUncompressedSize"/> before this is called.
    /// </remarks>
    /// <param name="source">The compressed bytes.</param>
    /// <param name="destination">Where the uncompressed bytes go.</param>
    /// <returns>The number of bytes written to <paramref name="destination"/>.</returns>
    int Decompress(ReadOnlyMemory<byte> source, Span<byte> destination);
}
