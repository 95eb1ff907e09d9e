using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Streams.Client.Consumers;

namespace Streams.Benchmarks;

/// <summary>CRC-32 (slice-by-16) throughput over a chunk-sized buffer; the extra column reports GB/s from the median.</summary>
[MemoryDiagnoser]
[MedianColumn]
[Config(typeof(Config))]
public class Crc32Benchmarks
{
    private byte[] _data = null!;

    [Params(64 * 1024, 1024 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Size];
        new Random(7).NextBytes(_data);
    }

    [Benchmark(Description = "Crc32.Compute")]
    public uint Compute() => Crc32.Compute(_data);

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
