using BenchmarkDotNet.Attributes;
using Streams.Client;
using Streams.Client.Amqp;

namespace Streams.Benchmarks;

/// <summary>
/// The AMQP 1.0 message codec on a typical message: message id, content type, 2 application properties and a 100-byte
/// data body; plus the data-only fast path used for raw bodies wrapped as AMQP.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class AmqpCodecBenchmarks
{
    private readonly byte[] _body = new byte[100];
    private readonly byte[] _buffer = new byte[1024];
    private Message _message = null!;
    private ReadOnlyMemory<byte> _encoded;

    [GlobalSetup]
    public void Setup()
    {
        new Random(3).NextBytes(_body);
        _message = new Message(_body)
        {
            Properties = new MessageProperties { MessageId = "order-000123", ContentType = "application/json" },
            ApplicationProperties = new Dictionary<string, object?> { ["tenant"] = "acme", ["attempt"] = 3 },
        };
        _encoded = _message.ToArray();
        var decoded = AmqpMessageCodec.Decode(_encoded);
        if (!decoded.Body.Span.SequenceEqual(_body) || (string?)decoded.Properties?.MessageId != "order-000123")
        {
            throw new InvalidOperationException("Round trip failed.");
        }
    }

    [Benchmark(Description = "GetSize")]
    public int GetSize() => AmqpMessageCodec.GetSize(_message);

    [Benchmark(Description = "Encode (GetSize + Encode)")]
    public int Encode()
    {
        int size = AmqpMessageCodec.GetSize(_message);
        return AmqpMessageCodec.Encode(_message, _buffer.AsSpan(0, size));
    }

    [Benchmark(Description = "Decode (body sliced)")]
    public Message Decode() => AmqpMessageCodec.Decode(_encoded);

    [Benchmark(Description = "EncodeDataOnly 100 B")]
    public int EncodeDataOnly() => AmqpMessageCodec.EncodeDataOnly(_body, _buffer);
}
