using System.Buffers;
using System.IO.Compression;
using System.Runtime.InteropServices;

namespace Streams.Client;

/// <summary>
/// The sub-entry compression codecs of one <see cref="StreamSystem"/> (<see cref="StreamSystemOptions.CompressionCodecs"/>):
/// <see cref="CompressionType.None"/> and <see cref="CompressionType.Gzip"/> are built in; Snappy, LZ4 and Zstd come from
/// the <c>Streams.Client.Compression</c> package (<c>options.AddAllCompressionCodecs()</c>) or from your own
/// <see cref="ICompressionCodec"/>. Producers look their codec up when they send; consumers when a sub-entry batch with
/// that codec arrives. Thread-safe; register codecs before creating producers and consumers.
/// </summary>
public sealed class CompressionCodecRegistry
{
    /// <summary>The package that implements the codecs that are not built in.</summary>
    public const string CompressionPackage = "Streams.Client.Compression";

    private readonly ICompressionCodec?[] _codecs = new ICompressionCodec?[8];

    /// <summary>Creates a registry holding the built-in codecs (none and gzip).</summary>
    public CompressionCodecRegistry()
    {
        _codecs[(int)CompressionType.None] = NoneCodec.Instance;
        _codecs[(int)CompressionType.Gzip] = GzipCodec.Instance;
    }

    /// <summary>The built-in codecs only (for producers and consumers created without a <see cref="StreamSystem"/>); never changed.</summary>
    internal static CompressionCodecRegistry BuiltIn { get; } = new();

    /// <summary>The compressions that have a codec, in code order.</summary>
    public IReadOnlyList<CompressionType> Registered
    {
        get
        {
            var list = new List<CompressionType>(_codecs.Length);
            for (int i = 0; i < _codecs.Length; i++)
            {
                if (Volatile.Read(ref _codecs[i]) is not null)
                {
                    list.Add((CompressionType)i);
                }
            }

            return list;
        }
    }

    /// <summary>Registers <paramref name="codec"/> for its <see cref="ICompressionCodec.Type"/>, replacing the one registered before (gzip included).</summary>
    /// <param name="codec">The codec (thread-safe).</param>
    /// <exception cref="ArgumentOutOfRangeException">The type is <see cref="CompressionType.None"/> (structural, built in) or above 7 (the field has 3 bits).</exception>
    public void Add(ICompressionCodec codec)
    {
        ArgumentNullException.ThrowIfNull(codec);
        var type = codec.Type;
        if ((byte)type > 7)
        {
            throw new ArgumentOutOfRangeException(nameof(codec), type, "A compression code is 3 bits (0-7).");
        }

        if (type == CompressionType.None)
        {
            throw new ArgumentOutOfRangeException(nameof(codec), type, "CompressionType.None is built in and cannot be replaced.");
        }

        if (ReferenceEquals(this, BuiltIn))
        {
            throw new InvalidOperationException("The built-in registry cannot be changed.");
        }

        Volatile.Write(ref _codecs[(int)type], codec);
    }

    /// <summary>Whether a codec is registered for <paramref name="type"/>.</summary>
    /// <param name="type">The compression.</param>
    public bool Contains(CompressionType type) => Find(type) is not null;

    /// <summary>The codec registered for <paramref name="type"/>, or <see langword="null"/>.</summary>
    /// <param name="type">The compression.</param>
    public ICompressionCodec? Find(CompressionType type) => (byte)type < 8 ? Volatile.Read(ref _codecs[(int)type]) : null;

    /// <summary>The codec registered for <paramref name="type"/>.</summary>
    /// <param name="type">The compression.</param>
    /// <exception cref="UnsupportedCompressionException">No codec is registered (the message names the package to add).</exception>
    public ICompressionCodec Get(CompressionType type) =>
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
