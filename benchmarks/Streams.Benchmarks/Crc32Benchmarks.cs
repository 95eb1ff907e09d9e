using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Streams.Client.Consumers;

namespace Streams.Benchmarks;

/// <summary>Chunk CRC-32 throughput (System.IO.Hashing.Crc32, which replaced the hand-written Consumers.Crc32; see benchmarks/README.md) over a chunk-sized buffer; the extra column reports GB/s from the median.</summary>
[MemoryDiagnoser]
[MedianColumn]
[Config(typeof(Config))]
public class Crc32Benchmarks
{
    private byte[] _data = null!;
    private byte[] _chunk = null!;
    private ChunkHeader _header;

    [Params(100, 4 * 1024, 64 * 1024, 1024 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Size];
        new Random(7).NextBytes(_data);
        if (System.IO.Hashing.Crc32.HashToUInt32("123456789"u8) != 0xCBF43926u)
        {
            throw new InvalidOperationException("CRC-32 check value of \"123456789\" is wrong.");
        }

        _chunk = new byte[ChunkHeader.Size + Size];
        _chunk[0] = ChunkHeader.MagicVersion;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(_chunk.AsSpan(32), System.IO.Hashing.Crc32.HashToUInt32(_data));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(_chunk.AsSpan(36), (uint)Size);
        _data.CopyTo(_chunk.AsSpan(ChunkHeader.Size));
        _header = ChunkHeader.Read(_chunk);
        if (!_header.IsCrcValid(_chunk))
        {
            throw new InvalidOperationException("The benchmark chunk does not validate.");
        }
    }

    [Benchmark(Baseline = true, Description = "System.IO.Hashing.Crc32")]
    public uint Library() => System.IO.Hashing.Crc32.HashToUInt32(_data);

    /// <summary>What <see cref="ChunkHeader.IsCrcValid"/> runs per chunk (the library call plus the header's data slice).</summary>
    [Benchmark(Description = "ChunkHeader.IsCrcValid")]
    public bool ChunkCheck() => _header.IsCrcValid(_chunk);

    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new ThroughputColumn());
    }

    /// <summary>Bytes per second (decimal GB/s) computed from the <c>Size</c> parameter and the median time.</summary>
    private sealed class ThroughputColumn : IColumn
    {
        public string Id => nameof(ThroughputColumn);

        public string ColumnName => "GB/s";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "Throughput in 10^9 bytes per second, from the median";

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var stats = summary[benchmarkCase]?.ResultStatistics;
            if (stats is null || benchmarkCase.Parameters["Size"] is not int size)
            {
                return "-";
            }

            double seconds = stats.Median / 1e9;
            return (size / seconds / 1e9).ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
