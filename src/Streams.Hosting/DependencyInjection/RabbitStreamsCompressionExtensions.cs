using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Streams.Client;

namespace Streams.Hosting;

/// <summary>Registers sub-entry compression codecs for the hosted stream system (its consumers and <see cref="IStreamPublisher"/>).</summary>
public static class RabbitStreamsCompressionExtensions
{
    /// <summary>
    /// Adds <paramref name="codec"/> to the <see cref="StreamSystemOptions.CompressionCodecs"/> of the hosted stream
    /// system. None and gzip are built in; for Snappy, LZ4 and Zstd reference <c>Streams.Client.Compression</c> and call
    /// <c>AddCompressionCodecs(StreamCompressionCodecs.All)</c>. A hosted consumer reading a sub-entry batch whose codec
    /// is missing fails with <see cref="UnsupportedCompressionException"/> naming the codec and the package.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="codec">The codec (one per codec type; adding the same codec class again changes nothing).</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IRabbitStreamsBuilder AddCompressionCodec(this IRabbitStreamsBuilder builder, ICompressionCodec codec)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(codec);
        if (codec.Type == CompressionType.None || (byte)codec.Type > 7)
        {
            throw new ArgumentOutOfRangeException(nameof(codec), codec.Type, "A codec's type must be 1-7 (CompressionType.None is built in).");
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ICompressionCodec>(codec));
        return builder;
    }

    /// <summary>Adds each of <paramref name="codecs"/> (e.g. <c>StreamCompressionCodecs.All</c>); see <see cref="AddCompressionCodec"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="codecs">The codecs.</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IRabbitStreamsBuilder AddCompressionCodecs(this IRabbitStreamsBuilder builder, IEnumerable<ICompressionCodec> codecs)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(codecs);
        foreach (var codec in codecs)
        {
            builder.AddCompressionCodec(codec ?? throw new ArgumentException("The codecs contain null.", nameof(codecs)));
        }

        return builder;
    }
}
