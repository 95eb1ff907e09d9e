using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Streams.Client.Consumers;

/// <summary>
/// Iterates the records of one chunk (protocol §5): simple entries and sub-batch entries (decompressed through
/// <see cref="CompressionCodecs"/>), assigning offsets <c>ChunkId + i</c> and skipping records below a minimum offset
/// and non-user chunks. Uncompressed chunks are read in place without allocating. A yielded record is valid until the
/// next call to <see cref="TryRead"/> or <see cref="Dispose"/> (decompressed buffers are reused), and as long as the
/// chunk memory is.
/// </summary>
internal struct ChunkReader : IDisposable
{
    private readonly ReadOnlyMemory<byte> _data;
    private readonly byte[]? _array;
    private readonly int _arrayOffset;
    private readonly ulong _minOffset;
    private readonly int _entries;
    private int _position;
    private int _entryIndex;
    private ulong _nextOffset;

    // Current sub-batch.
    private ReadOnlyMemory<byte> _batch;
    private int _batchPosition;
    private int _batchRemaining;
    private byte[]? _scratch;

    public ChunkReader(ReadOnlyMemory<byte> chunk, in ChunkHeader header, ulong minOffset = 0)
    {
        _data = header.IsUserChunk ? chunk.Slice(ChunkHeader.Size, (int)header.DataLength) : ReadOnlyMemory<byte>.Empty;
        _entries = header.IsUserChunk ? header.NumEntries : 0;
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

        _minOffset = minOffset;
        _nextOffset = header.ChunkId;
        _position = 0;
        _entryIndex = 0;
        _batch = default;
        _batchPosition = 0;
        _batchRemaining = 0;
        _scratch = null;
        ChunkId = header.ChunkId;
    }

    public ulong ChunkId { get; }

    /// <summary>Reads the next record at or above the minimum offset.</summary>
    public bool TryRead(out ulong offset, out ReadOnlyMemory<byte> message)
    {
        while (true)
        {
            if (_batchRemaining > 0)
            {
                var span = _batch.Span;
                if (span.Length - _batchPosition < 4)
                {
                    throw Truncated();
                }

                int size = checked((int)BinaryPrimitives.ReadUInt32BigEndian(span[_batchPosition..]));
                int start = _batchPosition + 4;
                if (size > span.Length - start)
                {
                    throw Truncated();
                }

                _batchPosition = start + size;
                _batchRemaining--;
                offset = _nextOffset++;
                if (offset >= _minOffset)
                {
                    message = _batch.Slice(start, size);
                    return true;
                }

                continue;
            }

            if (_entryIndex >= _entries)
            {
                offset = 0;
                message = default;
                return false;
            }

            _entryIndex++;
            var data = _array is not null ? new ReadOnlySpan<byte>(_array, _arrayOffset, _data.Length) : _data.Span;
            if (data.Length - _position < 4)
            {
                throw Truncated();
            }

            byte first = data[_position];
            if ((first & 0x80) == 0)
            {
                int length = (int)BinaryPrimitives.ReadUInt32BigEndian(data[_position..]);
                int start = _position + 4;
                if (length > data.Length - start)
                {
                    throw Truncated();
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

            // Sub-batch: 1ccc rrrr, records u16, uncompressed u32, data length u32, data.
            if (data.Length - _position < 11)
            {
                throw Truncated();
            }

            var compression = (CompressionType)((first >> 4) & 0x07);
            int records = BinaryPrimitives.ReadUInt16BigEndian(data[(_position + 1)..]);
            int uncompressed = checked((int)BinaryPrimitives.ReadUInt32BigEndian(data[(_position + 3)..]));
            int dataLength = checked((int)BinaryPrimitives.ReadUInt32BigEndian(data[(_position + 7)..]));
            int dataStart = _position + 11;
            if (dataLength > data.Length - dataStart)
            {
                throw Truncated();
            }

            _position = dataStart + dataLength;
            if (_nextOffset + (ulong)records <= _minOffset)
            {
                _nextOffset += (ulong)records;
                continue;
            }

            var compressed = _data.Slice(dataStart, dataLength);
            if (compression == CompressionType.None)
            {
                _batch = compressed;
            }
            else
            {
                var codec = CompressionCodecs.Get(compression);
                if (_scratch is null || _scratch.Length < uncompressed)
                {
                    if (_scratch is not null)
                    {
                        ArrayPool<byte>.Shared.Return(_scratch);
                    }

                    _scratch = ArrayPool<byte>.Shared.Rent(Math.Max(uncompressed, 1));
                }

                int written = codec.Decompress(compressed, _scratch.AsSpan(0, uncompressed));
                if (written != uncompressed)
                {
                    throw new ChunkFormatException(
                        $"A {compression} sub-batch of chunk {ChunkId} decompressed to {written} bytes instead of the announced {uncompressed}.",
                        ChunkId);
                }

                _batch = _scratch.AsMemory(0, uncompressed);
            }

            _batchPosition = 0;
            _batchRemaining = records;
        }
    }

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

    private readonly ChunkFormatException Truncated() =>
        new($"Chunk {ChunkId} is truncated or malformed at entry {_entryIndex}.", ChunkId);
}
