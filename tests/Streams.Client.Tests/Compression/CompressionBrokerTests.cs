using System.Buffers;
using Streams.Client.Compression;
using Streams.Client.Tests.Producers;
using Streams.Testing;

namespace Streams.Client.Tests.Compression;

/// <summary>
/// Sub-entry batches through the real broker (it stores them opaquely): our producer with each codec, and batches
/// compressed by the independent implementations, read back exactly by a consumer with the codecs registered; a
/// consumer without them fails with the typed error.
/// </summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class CompressionBrokerTests(BrokerFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<CompressionType> NewCodecs() => new(CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd);

    [Theory]
    [MemberData(nameof(NewCodecs))]
    public async Task Producer_sub_entries_with_each_codec_are_consumed_exactly(CompressionType type)
    {
        await using var s = await BrokerStream.CreateAsync(fixture, $"codec-{type}", Ct, o => o.AddAllCompressionCodecs());
        await using (var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream), Ct))
        {
            for (int batch = 0; batch < 10; batch++)
            {
                var bodies = Enumerable.Range(batch * 100, 100).Select(i => (ReadOnlyMemory<byte>)BrokerStream.Body(i)).ToArray();
                await producer.SendSubEntryAsync(bodies, type, Ct);
            }
        }

        await using var consumer = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.First }, Ct);
        var read = await BrokerStream.ReadAsync(consumer, 1000);
        for (int i = 0; i < 1000; i++)
        {
            Assert.Equal((ulong)i, read[i].Offset);
            Assert.Equal(BrokerStream.Body(i), read[i].Body);
        }
    }

    [Theory]
    [InlineData("snappy-records-500.bin")]
    [InlineData("lz4-64k-records-500.bin")]
    [InlineData("zstd-records-500.bin")]
    public async Task A_batch_compressed_by_the_independent_implementation_is_consumed_exactly(string file)
    {
        var v = CodecVectors.Get(file);
        var bodies = CodecVectors.RecordBodies(v.Size);
        // The producer side sends the vector's bytes as they are (checking it was asked to compress that very payload);
        // the consumer side decodes with the real codec.
        var recorded = new RecordedCodec(v.CodecInstance.Type, v.Plain, v.Compressed);
        await using var s = await BrokerStream.CreateAsync(fixture, $"vector-{v.Codec}", Ct, o => o.AddAllCompressionCodecs());
        await using (var producerSystem = await ConnectAsync(o => o.AddCompressionCodec(recorded)))
        await using (var producer = await producerSystem.CreateProducerAsync(new ProducerOptions(s.Stream), Ct))
        {
            await producer.SendSubEntryAsync(bodies.Select(b => (ReadOnlyMemory<byte>)b).ToArray(), v.CodecInstance.Type, Ct);
        }

        Assert.Equal(1, recorded.Calls);
        await using var consumer = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.First }, Ct);
        var read = await BrokerStream.ReadAsync(consumer, bodies.Length);
        for (int i = 0; i < bodies.Length; i++)
        {
            Assert.Equal((ulong)i, read[i].Offset);
            Assert.Equal(bodies[i], read[i].Body);
        }
    }

    [Fact]
    public async Task A_consumer_without_the_codec_fails_with_the_typed_error_naming_the_package()
    {
        await using var s = await BrokerStream.CreateAsync(fixture, "codec-missing", Ct, o => o.AddAllCompressionCodecs());
        await using (var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream), Ct))
        {
            await producer.SendSubEntryAsync([BrokerStream.Body(0), BrokerStream.Body(1)], CompressionType.Zstd, Ct);
        }

        await using var plain = await ConnectAsync(_ => { });
        await using var consumer = await plain.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.First }, Ct);
        var ex = await Assert.ThrowsAsync<UnsupportedCompressionException>(() => BrokerStream.ReadAsync(consumer, 2));
        Assert.Equal(CompressionType.Zstd, ex.Compression);
        Assert.Contains("Streams.Client.Compression", ex.Message, StringComparison.Ordinal);
    }

    private async Task<StreamSystem> ConnectAsync(Action<StreamSystemOptions> configure)
    {
        var options = new StreamSystemOptions
        {
            UserName = fixture.Endpoint.UserName,
            Password = fixture.Endpoint.Password,
            VirtualHost = fixture.Endpoint.VirtualHost,
        };
        options.Endpoints.Add(new StreamEndpoint(fixture.Endpoint.Host, fixture.Endpoint.Port));
        configure(options);
        return await StreamSystem.ConnectAsync(options, Ct);
    }

    /// <summary>Producer-side stand-in: "compresses" the expected payload into the independent implementation's bytes.</summary>
    private sealed class RecordedCodec(CompressionType type, byte[] plain, byte[] compressed) : ICompressionCodec
    {
        public int Calls { get; private set; }

        public CompressionType Type => type;

        public void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
        {
            Assert.True(source.SequenceEqual(plain), "the producer was asked to compress other bytes than the vector's payload");
            Calls++;
            destination.Write(compressed);
        }

        public int Decompress(ReadOnlyMemory<byte> source, Span<byte> destination) => throw new NotSupportedException("producer side only");
    }
}
