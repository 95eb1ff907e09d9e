using System.Text;
using Streams.Client;
using Streams.Client.Compression;
using Streams.Testing;

namespace Streams.Hosting.Tests.Integration;

/// <summary>Hosted consumers read Snappy, LZ4 and Zstd sub-entry batches once the codecs are added to the builder.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class CompressionTests(BrokerFixture broker)
{
    [Fact]
    public async Task A_hosted_consumer_with_the_codecs_added_reads_every_compressed_batch()
    {
        var ct = TestContext.Current.CancellationToken;
        var stream = BrokerFixture.UniqueName("hosting-codecs");
        await using (var system = await ConnectWithCodecsAsync(ct))
        {
            await system.CreateStreamAsync(stream, null, ct);
            await using var producer = await system.CreateProducerAsync(new ProducerOptions(stream), ct);
            int n = 0;
            foreach (var type in new[] { CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd })
            {
                var batch = Enumerable.Range(n, 50).Select(i => new Message(Encoding.UTF8.GetBytes($"m-{i}"))).ToArray();
                await producer.SendSubEntryAsync(batch, type, ct);
                n += 50;
            }
        }

        var probe = new Probe();
        using var host = TestHost.Build(broker, b => b.AddConsumer<BytesHandler>(c => c.Stream = stream).AddCompressionCodecs(StreamCompressionCodecs.All), probe: probe);
        await host.StartAsync(ct);
        var received = await probe.TakeAsync(150);
        Assert.Equal(Enumerable.Range(0, 150).Select(i => $"m-{i}"), received.Select(r => Encoding.UTF8.GetString((byte[])r.Message)));
        Assert.Equal(Enumerable.Range(0, 150).Select(i => (ulong)i), received.Select(r => r.Context.Offset));
        await host.StopAsync(ct);
    }

    private Task<StreamSystem> ConnectWithCodecsAsync(CancellationToken ct)
    {
        var options = new StreamSystemOptions { UserName = broker.Endpoint.UserName, Password = broker.Endpoint.Password, VirtualHost = broker.Endpoint.VirtualHost };
        options.Endpoints.Add(new StreamEndpoint(broker.Endpoint.Host, broker.Endpoint.Port));
        return StreamSystem.ConnectAsync(options.AddAllCompressionCodecs(), ct);
    }
}
