using BenchmarkDotNet.Attributes;
using Streams.Client;
using Streams.Client.Protocol;
using ProducerPublishFrame = Streams.Client.Producers.PublishFrame;

namespace Streams.Benchmarks;

/// <summary>
/// Publish frame encoding as the producer does it: one frame of 100 × 100-byte raw messages, v1 (simple entries) and
/// v2 (no filter value, and with a filter value), into a reused pooled buffer.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class PublishFrameBenchmarks
{
    private const int Messages = 100;
    private const int BodySize = 100;

    private readonly byte[] _body = new byte[BodySize];
    private ProducerPublishFrame _frame = null!;
    private ulong _publishingId;

    [GlobalSetup]
    public void Setup()
    {
        Random.Shared.NextBytes(_body);
        _frame = new ProducerPublishFrame(64 * 1024);
    }

    [GlobalCleanup]
    public void Cleanup() => _frame.Dispose();

    [Benchmark(Baseline = true, Description = "Publish v1, 100 x 100 B")]
    public int PublishV1()
    {
        var frame = _frame;
        frame.Reset(publisherId: 1, version: 1, capacity: 64 * 1024);
        for (int i = 0; i < Messages; i++)
        {
            frame.AppendV1(_publishingId++, _body);
        }

        return frame.Seal().Length;
    }

    [Benchmark(Description = "Publish v2, 100 x 100 B, no filter")]
    public int PublishV2()
    {
        var frame = _frame;
        frame.Reset(publisherId: 1, version: 2, capacity: 64 * 1024);
        for (int i = 0; i < Messages; i++)
        {
            frame.AppendV2(_publishingId++, null, _body);
        }

        return frame.Seal().Length;
    }

    [Benchmark(Description = "Publish v2, 100 x 100 B, filter 'eu-west'")]
    public int PublishV2WithFilter()
    {
        var frame = _frame;
        frame.Reset(publisherId: 1, version: 2, capacity: 64 * 1024);
        for (int i = 0; i < Messages; i++)
        {
            frame.AppendV2(_publishingId++, "eu-west", _body);
        }

        return frame.Seal().Length;
    }
}

/// <summary>Small request frames the consumer sends: Subscribe (allocating), Credit (in place and allocating), StoreOffset.</summary>
[MemoryDiagnoser]
[MedianColumn]
public class RequestFrameBenchmarks
{
    private readonly byte[] _creditBuffer = new byte[Requests.CreditFrameSize];
    private readonly Dictionary<string, string> _properties = new() { ["name"] = "orders-app", ["single-active-consumer"] = "true" };

    [Benchmark(Description = "Subscribe (offset spec, no props)")]
    public byte[] Subscribe() => Requests.Subscribe(42, 3, "orders-stream", OffsetSpecification.Offset(123_456), 10, null);

    [Benchmark(Description = "Subscribe (SAC props)")]
    public byte[] SubscribeWithProperties() => Requests.Subscribe(42, 3, "orders-stream", OffsetSpecification.First, 10, _properties);

    [Benchmark(Description = "Credit (into buffer)")]
    public byte[] CreditInPlace()
    {
        Requests.WriteCredit(_creditBuffer, 3, 1);
        return _creditBuffer;
    }

    [Benchmark(Description = "Credit (new array)")]
    public byte[] Credit() => Requests.Credit(3, 1);

    [Benchmark(Description = "StoreOffset")]
    public byte[] StoreOffset() => Requests.StoreOffset("orders-app", "orders-stream", 9_876_543);
}
