namespace Streams.Client.Compression;

/// <summary>
/// The sub-entry codecs of this package, to register on <see cref="StreamSystemOptions.CompressionCodecs"/>
/// (<see cref="CompressionStreamSystemOptionsExtensions.AddAllCompressionCodecs"/>) or, with Streams.Hosting, on the
/// builder (<c>AddRabbitStreams(...).AddCompressionCodecs(StreamCompressionCodecs.All)</c>). Each is thread-safe.
/// </summary>
public static class StreamCompressionCodecs
{
    /// <summary>Snappy, framing format (code 2).</summary>
    public static ICompressionCodec Snappy => SnappyCompressionCodec.Instance;

    /// <summary>LZ4, frame format (code 3).</summary>
    public static ICompressionCodec Lz4 => Lz4CompressionCodec.Instance;

    /// <summary>Zstandard frames (code 4).</summary>
    public static ICompressionCodec Zstd => ZstdCompressionCodec.Instance;

    /// <summary>Snappy, LZ4 and Zstd.</summary>
    public static IReadOnlyList<ICompressionCodec> All { get; } = [SnappyCompressionCodec.Instance, Lz4CompressionCodec.Instance, ZstdCompressionCodec.Instance];
}
