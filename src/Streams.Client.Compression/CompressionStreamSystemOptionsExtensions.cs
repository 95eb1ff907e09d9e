namespace Streams.Client.Compression;

/// <summary>Registers this package's codecs on <see cref="StreamSystemOptions"/>.</summary>
public static class CompressionStreamSystemOptionsExtensions
{
    /// <summary>Registers Snappy, LZ4 and Zstd (see <see cref="StreamCompressionCodecs"/>).</summary>
    /// <param name="options">The stream system options.</param>
    /// <returns><paramref name="options"/>.</returns>
    public static StreamSystemOptions AddAllCompressionCodecs(this StreamSystemOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var codec in StreamCompressionCodecs.All)
        {
            options.AddCompressionCodec(codec);
        }

        return options;
    }

    /// <summary>Registers the Snappy codec (framing format).</summary>
    /// <param name="options">The stream system options.</param>
    /// <returns><paramref name="options"/>.</returns>
    public static StreamSystemOptions UseSnappy(this StreamSystemOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.AddCompressionCodec(StreamCompressionCodecs.Snappy);
    }

    /// <summary>Registers the LZ4 codec (frame format).</summary>
    /// <param name="options">The stream system options.</param>
    /// <returns><paramref name="options"/>.</returns>
    public static StreamSystemOptions UseLz4(this StreamSystemOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.AddCompressionCodec(StreamCompressionCodecs.Lz4);
    }

    /// <summary>Registers the Zstandard codec.</summary>
    /// <param name="options">The stream system options.</param>
    /// <returns><paramref name="options"/>.</returns>
    public static StreamSystemOptions UseZstd(this StreamSystemOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.AddCompressionCodec(StreamCompressionCodecs.Zstd);
    }
}
