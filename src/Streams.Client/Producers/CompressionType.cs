namespace Streams.Client;

/// <summary>The compression of a sub-entry batch (the 3-bit codec field of protocol §5).</summary>
public enum CompressionType : byte
{
    /// <summary>No compression: the records are stored as they are, grouped in one entry.</summary>
    None = 0,
    /// <summary>GZIP (built in).</summary>
    Gzip = 1,
    /// <summary>Snappy, framing format (<c>Streams.Client.Compression</c>, or register an <see cref="ICompressionCodec"/>).</summary>
    Snappy = 2,
    /// <summary>LZ4, frame format (<c>Streams.Client.Compression</c>, or register an <see cref="ICompressionCodec"/>).</summary>
    Lz4 = 3,
    /// <summary>Zstandard frame (<c>Streams.Client.Compression</c>, or register an <see cref="ICompressionCodec"/>).</summary>
    Zstd = 4,
}
