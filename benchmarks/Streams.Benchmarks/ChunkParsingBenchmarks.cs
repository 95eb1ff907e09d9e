using BenchmarkDotNet.Attributes;
using Streams.Client;
using Streams.Client.Consumers;

namespace Streams.Benchmarks;

/// <summary>
/// Parsing a realistic delivered chunk: 1000 simple entries of 100 bytes (~104 KB), header validation, optional CRC-32
/// over the data section, then iterating every record (offset + body slice) as the consumer does.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class ChunkParsingBenchmarks
{
    private byte[] _chunk = null!;

    [Params(true, false)]
    public bool Crc { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _chunk = ChunkData.Simple(count: 1000, size: 100);
        if (Parse() != 1000)
        {
            throw new InvalidOperationException("The benchmark chunk did not parse into 1000 records.");
        }
    }

    [Benchmark(Description = "1000 x 100 B simple entries")]
    public long Parse() => ChunkParsing.ReadAll(_chunk, Crc, minOffset: 0);

    [Benchmark(Description = "1000 x 100 B, skip first 500 (resume mid-chunk)")]
    public long ParseFromMiddle() => ChunkParsing.ReadAll(_chunk, Crc, minOffset: 1_500);
}

/// <summary>A chunk of 10 sub-batch entries × 100 records of 100 bytes, uncompressed and gzip, CRC on.</summary>
[MemoryDiagnoser]
[MedianColumn]
public class SubBatchChunkBenchmarks
{
    private byte[] _chunk = null!;

    [Params(CompressionType.None, CompressionType.Gzip)]
    public CompressionType Compression { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _chunk = ChunkData.SubBatches(batches: 10, recordsPerBatch: 100, size: 100, Compression);
        if (Parse() != 1000)
        {
            throw new InvalidOperationException("The benchmark chunk did not parse into 1000 records.");
        }
    }

    [Benchmark(Description = "10 sub-batches x 100 x 100 B")]
    public long Parse() => ChunkParsing.ReadAll(_chunk, crc: true, minOffset: 0);
}

internal static class ChunkParsing
{
    /// <summary>Validates and reads every record; returns the record count (and touches each body).</summary>
    public static long ReadAll(byte[] chunk, bool crc, ulong minOffset)
    {
        var header = ChunkHeader.Read(chunk);
        if (crc && !header.IsCrcValid(chunk))
        {
            throw new InvalidOperationException("CRC mismatch.");
        }

        long count = 0;
        int bytes = 0;
        var reader = new ChunkReader(chunk, header, minOffset);
        try
        {
            while (reader.TryRead(out _, out var message))
            {
                bytes += message.Length;
                count++;
            }
        }
        finally
        {
            reader.Dispose();
        }

        return bytes > 0 ? count : -1;
    }
}
