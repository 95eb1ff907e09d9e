using System.Buffers.Binary;

namespace Streams.Client.Producers;

/// <summary>
/// The open sub-entry batch of a producer with <see cref="ProducerOptions.SubEntrySize"/> above 1: the
/// <c>size:u32 + bytes</c> records of its messages, uncompressed, until the producer closes the batch and compresses
/// it into a Publish frame. A batch never holds more records than fit one frame once compressed. Not thread-safe
/// (used under the producer's lock).
/// </summary>
internal sealed class SubEntryBatcher : IDisposable
{
    /// <summary>The broker's default bound on a batch's uncompressed size (<c>stream.max_uncompressed_sub_entry_batch_size</c>, 64 MiB).</summary>
    public const int MaxUncompressedLength = 64 * 1024 * 1024;

    /// <summary>The size field that precedes each message in a batch's records.</summary>
    public const int RecordOverhead = 4;

    private readonly PooledBufferWriter _records = new(4096);
    private readonly PooledBufferWriter _compressed = new(4096);
    private readonly ICompressionCodec _codec;
    private readonly int _maxData;

    /// <param name="size">The most messages per batch (2-65535).</param>
    /// <param name="codec">The codec compressing each batch.</param>
    /// <param name="frameMax">The negotiated frame max (<see cref="int.MaxValue"/> when unbounded).</param>
    public SubEntryBatcher(int size, ICompressionCodec codec, int frameMax)
    {
        Size = size;
        _codec = codec;
        _maxData = (int)Math.Min(int.MaxValue, (long)frameMax - PublishFrame.HeaderSize - PublishFrame.SubEntryOverhead);

        // Compressed data can be a little larger than its input (incompressible bytes: the gzip, zstd, LZ4 and Snappy
        // framings add a header of at most a few dozen bytes and a few bytes per block of 16-128 KiB); keep room for it.
        // A codec that still overshoots gets its batch sent uncompressed (see Compress).
        long slack = codec.Type == CompressionType.None ? 0 : 64 + (_maxData / 256);
        MaxRecordsLength = (int)Math.Clamp(_maxData - slack, 0, MaxUncompressedLength);
    }

    /// <summary>The most messages per batch.</summary>
    public int Size { get; }

    /// <summary>The most bytes of records per batch (before compression).</summary>
    public int MaxRecordsLength { get; }

    /// <summary>Messages in the open batch.</summary>
    public int Count { get; private set; }

    /// <summary>The publishing id of the open batch's last message: the batch's id on the wire.</summary>
    public ulong LastId { get; private set; }

    /// <summary>The producer's sequence number of the open batch's last message.</summary>
    public long LastSequence { get; private set; }

    /// <summary>Bytes of records in the open batch.</summary>
    public int RecordsLength => _records.WrittenCount;

    /// <summary>Whether a message of <paramref name="length"/> bytes fits the open batch.</summary>
    public bool Fits(int length) => (long)_records.WrittenCount + RecordOverhead + length <= MaxRecordsLength;

    /// <summary>Whether a message of <paramref name="length"/> bytes fits an empty batch.</summary>
    public bool FitsAlone(int length) => (long)RecordOverhead + length <= MaxRecordsLength;

    /// <summary>Adds a record of <paramref name="length"/> bytes and returns where its message goes.</summary>
    public Span<byte> Add(ulong publishingId, long sequence, int length)
    {
        var span = _records.GetSpan(RecordOverhead + length)[..(RecordOverhead + length)];
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)length);
        _records.Advance(span.Length);
        Count++;
        LastId = publishingId;
        LastSequence = sequence;
        return span[RecordOverhead..];
    }

    /// <summary>
    /// The data of the open batch: its records compressed with the codec, or the records themselves
    /// (<paramref name="compression"/> = <see cref="CompressionType.None"/>) for the none codec and when the codec made
    /// them too large for a frame (<paramref name="expanded"/>).
    /// </summary>
    public ReadOnlySpan<byte> Compress(out CompressionType compression, out bool expanded)
    {
        expanded = false;
        compression = _codec.Type;
        if (compression == CompressionType.None)
        {
            return _records.WrittenSpan;
        }

        _compressed.Clear();
        _codec.Compress(_records.WrittenSpan, _compressed);
        if (_compressed.WrittenCount <= _maxData)
        {
            return _compressed.WrittenSpan;
        }

        expanded = true;
        compression = CompressionType.None;
        return _records.WrittenSpan;
    }

    /// <summary>Empties the batch (after it went into a frame, or when the producer failed its messages).</summary>
    public void Reset()
    {
        _records.Clear();
        Count = 0;
    }

    public void Dispose()
    {
        _records.Dispose();
        _compressed.Dispose();
    }
}
