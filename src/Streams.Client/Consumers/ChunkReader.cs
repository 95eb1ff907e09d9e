using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Streams.Client.Consumers;

/// <summary>
/// Iterates the records of one chunk (protocol §5): simple entries and sub-batch entries (decompressed through
/// the consumer's <see cref="CompressionCodecRegistry"/>), assigning offsets <c>ChunkId + i</c> and skipping records below a minimum offset.
/// Uncompressed chunks are read in place without allocating. A yielded record is valid until the next call to
/// <see cref="TryRead"/> or <see cref="Dispose"/> (decompressed buffers are reused), and as long as the chunk memory is.
/// </summary>
/// <remarks>
/// <para>
/// Every byte is untrusted, and the header is not covered by the CRC, so it is cross-checked against the data: the
/// entries must be exactly <see cref="ChunkHeader.NumEntries"/> and consume exactly <see cref="ChunkHeader.DataLength"/>
/// bytes, and they must hold exactly <see cref="ChunkHeader.NumRecords"/> records. Each sub-batch must hold exactly
/// its declared record count, its records must consume exactly its uncompressed data, its declared uncompressed size
/// must be at least 4 bytes per record and at most the configured limit (checked before anything is allocated), and its
/// codec must produce exactly the declared size. Sub-batches wholly below the minimum offset are checked the same way
/// (decompressed and walked), since a wrong count there would shift every later offset. The checks cost a few integer
/// compares per entry and per record; uncompressed chunks are still read in place.
/// </para>
/// <para>
/// Chunk types: 0 (user) is read; 1 and 2 (tracking delta and snapshot, written by offset storage) are known non-user
/// types and yield nothing; any other type is an error.
/// </para>
/// <para>
/// Every violation throws <see cref="ChunkFormatException"/> naming the stream and the chunk id (codec failures are
/// wrapped, the original as <see cref="Exception.InnerException"/>), except a compression without registered codec,
/// which throws <see cref="UnsupportedCompressionException"/>. An error is thrown by the <see cref="TryRead"/> call that
/// reaches it, so records before it may have been yielded: a sub-batch's header and decompression are checked when it is
/// reached, its record count and sizes record by record (its end after its last record, before that record is yielded),
/// the chunk's counts and trailing bytes at the end of the chunk, before any call returns <see langword="false"/>. A
/// record past <c>ChunkId + NumRecords</c> is never yielded.
/// </para>
/// </remarks>
internal struct ChunkReader : IDisposable
{
    /// <summary>The default bound on a sub-batch's uncompressed size: the broker's own limit, 64 MiB.</summary>
    public const int DefaultMaxUncompressedSize = 64 * 1024 * 1024;

    private const byte TrackingDeltaChunkType = 1;
    private const byte TrackingSnapshotChunkType = 2;
    private const int SubBatchHeaderSize = 11;

    private readonly ReadOnlyMemory<byte> _data;
    private readonly byte[]? _array;
    private readonly int _arrayOffset;
    private readonly ulong _minOffset;
    private readonly int _entries;
    private readonly ulong _endOffset;
    private readonly int _maxUncompressedSize;
    private readonly string? _stream;
    private readonly CompressionCodecRegistry _codecs;
    private int _position;
    private int _entryIndex;
    private ulong _nextOffset;
    private bool _ended;

    // Current sub-batch: _batchRecords declared, _batchRemaining still to read, checked record by record.
    private ReadOnlyMemory<byte> _batch;
    private int _batchPosition;
    private int _batchRemaining;
    private int _batchRecords;
    private byte[]? _scratch;

    /// <summary>Starts reading <paramref name="chunk"/>, whose header <paramref name="header"/> was read from it.</summary>
    /// <param name="chunk">The chunk: header, then at least <see cref="ChunkHeader.DataLength"/> bytes.</param>
    /// <param name="header">Its header (<see cref="ChunkHeader.Read"/>).</param>
    /// <param name="minOffset">Records below this offset are skipped (still validated).</param>
    /// <param name="maxUncompressedSize">The largest uncompressed size a compressed sub-batch may declare.</param>
    /// <param name="stream">The stream, for error messages.</param>
    /// <param name="codecs">The codecs of compressed sub-batches (default: the built-in none and gzip).</param>
    /// <exception cref="ChunkFormatException">Unknown chunk type, or a header inconsistent with the chunk.</exception>
    public ChunkReader(ReadOnlyMemory<byte> chunk, in ChunkHeader header, ulong minOffset = 0, int maxUncompressedSize = DefaultMaxUncompressedSize, string? stream = null, CompressionCodecRegistry? codecs = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxUncompressedSize);
        _stream = stream;
        _codecs = codecs ?? CompressionCodecRegistry.BuiltIn;
        _maxUncompressedSize = maxUncompressedSize;
        ChunkId = header.ChunkId;
        _minOffset = minOffset;
        _nextOffset = header.ChunkId;
        _position = 0;
        _entryIndex = 0;
        _ended = false;
        _batch = default;
        _batchPosition = 0;
        _batchRemaining = 0;
        _batchRecords = 0;
        _scratch = null;

        switch (header.ChunkType)
        {
            case ChunkHeader.UserChunkType:
                if (header.DataLength > (uint)Math.Max(chunk.Length - ChunkHeader.Size, 0))
                {
                    throw Error(header.ChunkId, stream, $"announces {header.DataLength} data bytes but only {Math.Max(chunk.Length - ChunkHeader.Size, 0)} follow the header");
                }

                if (header.NumRecords > ulong.MaxValue - header.ChunkId)
                {
                    throw Error(header.ChunkId, stream, $"announces {header.NumRecords} records, past the largest offset");
                }

                _data = chunk.Slice(ChunkHeader.Size, (int)header.DataLength);
                _entries = header.NumEntries;
                _endOffset = header.ChunkId + header.NumRecords;
                break;
            case TrackingDeltaChunkType:
            case TrackingSnapshotChunkType:
                _data = ReadOnlyMemory<byte>.Empty;
                _entries = 0;
                _endOffset = header.ChunkId;
                break;
            default:
                throw Error(header.ChunkId, stream, $"has unknown chunk type {header.ChunkType} (known: 0 user, 1 tracking delta, 2 tracking snapshot)");
        }

        if (MemoryMarshal.TryGetArray(_data, out var segment))
        {
            _array = segment.Array;
            _arrayOffset = segment.Offset;
        }
        else
        {
            _array = null;
            _arrayOffset = 0;
        }
    }

    /// <summary>The id (first offset) of the chunk.</summary>
    public ulong ChunkId { get; }

    /// <summary>Reads the next record at or above the minimum offset.</summary>
    /// <param name="offset">The record's offset.</param>
    /// <param name="message">The record's bytes.</param>
    /// <returns><see langword="false"/> at the end of a well-formed chunk.</returns>
    /// <exception cref="ChunkFormatException">The chunk is malformed (see the type's remarks).</exception>
    /// <exception cref="UnsupportedCompressionException">A sub-batch uses a compression without registered codec.</exception>
    public bool TryRead(out ulong offset, out ReadOnlyMemory<byte> message)
    {
        while (true)
        {
            if (_batchRemaining > 0)
            {
                var span = _batch.Span;
                int left = span.Length - _batchPosition;
                if (left < 4)
                {
                    throw BatchShort(left, span.Length);
                }

                uint size = BinaryPrimitives.ReadUInt32BigEndian(span[_batchPosition..]);
                if (size > (uint)(left - 4))
                {
                    throw BatchRecordTooLong(size, left - 4);
                }

                int start = _batchPosition + 4;
                _batchPosition = start + (int)size;
                if (--_batchRemaining == 0 && _batchPosition != span.Length)
                {
                    throw BatchTrailing(span.Length);
                }

                offset = _nextOffset++;
                if (offset >= _minOffset)
                {
                    message = _batch.Slice(start, (int)size);
                    return true;
                }

                continue;
            }

            if (_entryIndex >= _entries)
            {
                if (!_ended)
                {
                    CheckEnd();
                    _ended = true;
                }

                offset = 0;
                message = default;
                return false;
            }

            var data = _array is not null ? new ReadOnlySpan<byte>(_array, _arrayOffset, _data.Length) : _data.Span;
            int remaining = data.Length - _position;
            if (remaining < 4)
            {
                throw EntryCut(remaining, data.Length);
            }

            _entryIndex++;
            byte first = data[_position];
            if ((first & 0x80) == 0)
            {
                // Top bit 0: the length is below 2^31.
                int length = (int)BinaryPrimitives.ReadUInt32BigEndian(data[_position..]);
                int start = _position + 4;
                if (length > data.Length - start)
                {
                    throw EntryTooLong(length, data.Length - start);
                }

                if (_nextOffset >= _endOffset)
                {
                    throw TooManyRecords(1);
                }

                _position = start + length;
                offset = _nextOffset++;
                if (offset >= _minOffset)
                {
                    message = _data.Slice(start, length);
                    return true;
                }

                continue;
            }

            OpenSubBatch(data, first);
        }
    }

    /// <summary>Returns the decompression buffer, if any, to the pool.</summary>
    public void Dispose()
    {
        if (_scratch is not null)
        {
            ArrayPool<byte>.Shared.Return(_scratch);
            _scratch = null;
        }

        _batch = default;
        _batchRemaining = 0;
    }

    /// <summary>Walks a skipped sub-batch's records: exactly <paramref name="records"/> of them must consume exactly <paramref name="batch"/>.</summary>
    /// <returns>Null when they do, else what is wrong.</returns>
    private static string? CheckRecords(ReadOnlySpan<byte> batch, int records)
    {
        int position = 0;
        for (int i = 0; i < records; i++)
        {
            if (batch.Length - position < 4)
            {
                return $"declares {records} records but its {batch.Length} bytes hold only {i}";
            }

            uint size = BinaryPrimitives.ReadUInt32BigEndian(batch[position..]);
            position += 4;
            if (size > (uint)(batch.Length - position))
            {
                return $"is truncated: record {i} of {records} announces {size} bytes but only {batch.Length - position} remain";
            }

            position += (int)size;
        }

        return position == batch.Length
            ? null
            : $"declares {records} records but they end {batch.Length - position} bytes before the end of its {batch.Length} bytes (more records or trailing bytes)";
    }

    private static ChunkFormatException Error(ulong chunkId, string? stream, string what, Exception? inner = null) =>
        new(stream is null ? $"Chunk {chunkId} {what}." : $"Chunk {chunkId} of stream {stream} {what}.", chunkId, stream, inner);

    /// <summary>
    /// Reads the sub-batch entry at <see cref="_position"/>: checks its header, decompresses it (bounded), and either
    /// walks it (wholly skipped or empty) or makes it current for <see cref="TryRead"/>, which checks it record by record.
    /// </summary>
    private void OpenSubBatch(ReadOnlySpan<byte> data, byte first)
    {
        // 1ccc rrrr, records u16, uncompressed u32, data length u32, data.
        int entry = _entryIndex - 1;
        if (data.Length - _position < SubBatchHeaderSize)
        {
            throw Error($"is truncated: sub-batch entry {entry} needs {SubBatchHeaderSize} header bytes, {data.Length - _position} remain");
        }

        var compression = (CompressionType)((first >> 4) & 0x07);
        int records = BinaryPrimitives.ReadUInt16BigEndian(data[(_position + 1)..]);
        uint uncompressed = BinaryPrimitives.ReadUInt32BigEndian(data[(_position + 3)..]);
        uint dataLength = BinaryPrimitives.ReadUInt32BigEndian(data[(_position + 7)..]);
        int dataStart = _position + SubBatchHeaderSize;
        if (dataLength > (uint)(data.Length - dataStart))
        {
            throw Error($"is truncated: sub-batch entry {entry} announces {dataLength} data bytes but only {data.Length - dataStart} remain");
        }

        if ((ulong)records * 4 > uncompressed)
        {
            throw Error($"has a sub-batch (entry {entry}) declaring {records} records in {uncompressed} uncompressed bytes (at least 4 per record)");
        }

        if ((ulong)records > _endOffset - _nextOffset)
        {
            throw TooManyRecords(records);
        }

        _position = dataStart + (int)dataLength;
        var payload = _data.Slice(dataStart, (int)dataLength);
        ReadOnlyMemory<byte> batch;
        if (compression == CompressionType.None)
        {
            if (uncompressed != dataLength)
            {
                throw Error($"has an uncompressed sub-batch (entry {entry}) declaring {uncompressed} uncompressed bytes but carrying {dataLength}");
            }

            batch = payload;
        }
        else
        {
            if (uncompressed > (uint)_maxUncompressedSize)
            {
                throw Error($"has a {compression} sub-batch (entry {entry}) declaring {uncompressed} uncompressed bytes, above the limit of {_maxUncompressedSize} (ConsumerOptions.MaxSubEntryUncompressedSize)");
            }

            var codec = _codecs.Get(compression);
            int size = (int)uncompressed;
            if (_scratch is null || _scratch.Length < size)
            {
                if (_scratch is not null)
                {
                    ArrayPool<byte>.Shared.Return(_scratch);
                    _scratch = null;
                }

                _scratch = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
            }

            int written;
            try
            {
                written = codec.Decompress(payload, _scratch.AsSpan(0, size));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                throw Error($"has a {compression} sub-batch (entry {entry}) that could not be decompressed: {ex.Message}", ex);
            }

            if (written != size)
            {
                throw Error($"has a {compression} sub-batch (entry {entry}) that decompressed to {written} bytes instead of the declared {size}");
            }

            batch = _scratch.AsMemory(0, size);
        }

        if (records == 0 || _nextOffset + (ulong)records <= _minOffset)
        {
            // Wholly below the minimum offset (or empty): nothing to yield, but the count must be right (later offsets
            // depend on it).
            if (CheckRecords(batch.Span, records) is { } problem)
            {
                throw Error($"has a sub-batch (entry {entry}) that {problem}");
            }

            _nextOffset += (ulong)records;
            return;
        }

        // Read record by record (TryRead checks each one and the batch's end).
        _batch = batch;
        _batchPosition = 0;
        _batchRemaining = records;
        _batchRecords = records;
    }

    /// <summary>At the last entry: the entries must have consumed exactly the data and held exactly NumRecords records.</summary>
    private readonly void CheckEnd()
    {
        if (_position != _data.Length)
        {
            throw Error($"has {_data.Length - _position} bytes after its {_entries} announced entries (of {_data.Length} data bytes)");
        }

        if (_nextOffset != _endOffset)
        {
            throw Error($"announces {_endOffset - ChunkId} records but its entries hold {_nextOffset - ChunkId}");
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly ChunkFormatException TooManyRecords(int more) =>
        Error($"announces {_endOffset - ChunkId} records but its entries hold at least {_nextOffset - ChunkId + (ulong)more} (entry {_entryIndex - 1})");

    private readonly ChunkFormatException Error(string what, Exception? inner = null) => Error(ChunkId, _stream, what, inner);

    // Throw helpers, kept out of TryRead so that its hot loop carries no message-building code.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly ChunkFormatException BatchShort(int left, int length) => BatchError(left == 0
        ? $"declares {_batchRecords} records but its {length} bytes hold only {_batchRecords - _batchRemaining}"
        : $"is truncated: record {_batchRecords - _batchRemaining} of {_batchRecords} starts {left} bytes before its end");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly ChunkFormatException BatchRecordTooLong(uint size, int available) =>
        BatchError($"is truncated: record {_batchRecords - _batchRemaining} of {_batchRecords} announces {size} bytes but only {available} remain");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly ChunkFormatException BatchTrailing(int length) =>
        BatchError($"declares {_batchRecords} records but they end {length - _batchPosition} bytes before the end of its {length} bytes (more records or trailing bytes)");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly ChunkFormatException EntryCut(int remaining, int length) => remaining == 0
        ? Error($"announces {_entries} entries but its {length} data bytes hold only {_entryIndex}")
        : Error($"is truncated: entry {_entryIndex} starts {remaining} bytes before the end of the data");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly ChunkFormatException EntryTooLong(int length, int available) =>
        Error($"is truncated: entry {_entryIndex - 1} announces {length} bytes but only {available} remain");

    private readonly ChunkFormatException BatchError(string what) => Error($"has a sub-batch (entry {_entryIndex - 1}) that {what}");
}
