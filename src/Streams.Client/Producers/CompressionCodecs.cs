using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Compression;
using System.Runtime.InteropServices;

namespace Streams.Client;

/// <summary>The process-wide registry of sub-entry compression codecs.</summary>
public static class CompressionCodecs
{
    private static readonly ConcurrentDictionary<CompressionType, ICompressionCodec> Codecs = new()
    {
        [CompressionType.None] = NoneCodec.Instance,
        [CompressionType.Gzip] = GzipCodec.Instance,
    };

    /// <summary>Registers (or replaces) the codec for <see cref="ICompressionCodec.Type"/>.</summary>
    /// <param name="codec">The codec.</param>
    public static void Register(ICompressionCodec codec)
    {
        ArgumentNullException.ThrowIfNull(codec);
        if ((byte)codec.Type > 7)
        {
            throw new ArgumentOutOfRangeException(nameof(codec), codec.Type, "A compression code is 3 bits (0-7).");
        }

        Codecs[codec.Type] = codec;
    }

    /// <summary>The codec registered for <paramref name="type"/>, or <see langword="null"/>.</summary>
    /// <param name="type">The compression.</param>
    public static ICompressionCodec? Find(CompressionType type) => Codecs.GetValueOrDefault(type);

    /// <summary>The codec registered for <paramref name="type"/>.</summary>
    /// <param name="type">The compression.</param>
    /// <exception cref="UnsupportedCompressionException">No codec is registered.</exception>
    public static ICompressionCodec Get(CompressionType type) =>
        Find(type) ?? throw new UnsupportedCompressionException(type);

    private sealed class NoneCodec : ICompressionCodec
    {
        public static readonly NoneCodec Instance = new();

        public CompressionType Type => CompressionType.None;

        public void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination) => destination.Write(source);

        public int Decompress(ReadOnlyMemory<byte> source, Span<byte> destination)
        {
            if (source.Length > destination.Length)
            {
                throw new InvalidDataException($"The uncompressed data is {source.Length} bytes, more than the announced {destination.Length}.");
            }

            source.Span.CopyTo(destination);
            return source.Length;
        }
    }

    private sealed class GzipCodec : ICompressionCodec
    {
        public static readonly GzipCodec Instance = new();

        public CompressionType Type => CompressionType.Gzip;

        public void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
        {
            using var sink = new BufferWriterStream(destination);
            using (var gzip = new GZipStream(sink, CompressionLevel.Fastest, leaveOpen: true))
            {
                gzip.Write(source);
            }
        }

        public int Decompress(ReadOnlyMemory<byte> source, Span<byte> destination)
        {
            using var input = MemoryMarshal.TryGetArray(source, out var segment)
                ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
                : new MemoryStream(source.ToArray(), writable: false);
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            int total = 0;
            while (total < destination.Length)
            {
                int read = gzip.Read(destination[total..]);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            if (total == destination.Length)
            {
                // Announced size reached: the stream must end here, not be truncated silently.
                Span<byte> probe = stackalloc byte[1];
                if (gzip.Read(probe) != 0)
                {
                    throw new InvalidDataException($"The gzip data decompresses to more than the announced {destination.Length} bytes.");
                }
            }

            return total;
        }
    }

    private sealed class BufferWriterStream(IBufferWriter<byte> writer) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => writer.Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer) => writer.Write(buffer);
    }
}
