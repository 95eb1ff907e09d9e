using System.Text;
using BenchmarkDotNet.Attributes;
using Streams.Client.SuperStreams;

namespace Streams.Benchmarks;

/// <summary>Super stream hash routing (MurmurHash3 x86 32, seed 104729) of short routing keys to 3 partitions.</summary>
[MemoryDiagnoser]
[MedianColumn]
public class MurmurHash3Benchmarks
{
    private const uint Seed = 104729;

    private readonly string[] _keys = Enumerable.Range(1, 16).Select(i => $"customer-{i * 7919}").ToArray();
    private byte[][] _utf8 = null!;

    [GlobalSetup]
    public void Setup()
    {
        _utf8 = _keys.Select(Encoding.UTF8.GetBytes).ToArray();
        if (MurmurHash3.Hash32("hello1", Seed) != 0x10f9983a)
        {
            throw new InvalidOperationException("MurmurHash3 test vector mismatch.");
        }
    }

    [Benchmark(Description = "Route 16 string keys (UTF-8 + hash % 3)", OperationsPerInvoke = 16)]
    public int RouteStrings()
    {
        int sum = 0;
        foreach (var key in _keys)
        {
            sum += (int)(MurmurHash3.Hash32(key, Seed) % 3);
        }

        return sum;
    }

    [Benchmark(Description = "Hash 16 UTF-8 keys (bytes)", OperationsPerInvoke = 16)]
    public uint HashBytes()
    {
        uint x = 0;
        foreach (var key in _utf8)
        {
            x ^= MurmurHash3.Hash32(key, Seed);
        }

        return x;
    }
}
