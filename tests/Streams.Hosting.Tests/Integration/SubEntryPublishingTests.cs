using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Client;
using Streams.Client.Compression;
using Streams.Testing;

namespace Streams.Hosting.Tests.Integration;

/// <summary>
/// An application configured with <c>RabbitStreams:Publishing:SubEntrySize = 10</c> and <c>Compression = Zstd</c>:
/// concurrent <see cref="IStreamPublisher"/> callers are confirmed, the stream holds Zstd batches, and the hosted
/// consumer handles every message once, each caller's in its order.
/// </summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class SubEntryPublishingTests(BrokerFixture broker)
{
    private const int Callers = 16;
    private const int PerCaller = 50;

    [Fact]
    public async Task A_hosted_app_publishing_zstd_batches_through_IStreamPublisher_consumes_every_message()
    {
        var ct = TestContext.Current.CancellationToken;
        var stream = BrokerFixture.UniqueName("hosting-sub-entry");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(
        [
            new("RabbitStreams:Endpoints:0:Host", broker.Endpoint.Host),
            new("RabbitStreams:Endpoints:0:Port", broker.Endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("RabbitStreams:UserName", broker.Endpoint.UserName),
            new("RabbitStreams:Password", broker.Endpoint.Password),
            new("RabbitStreams:VirtualHost", broker.Endpoint.VirtualHost),
            new("RabbitStreams:Publishing:SubEntrySize", "10"),
            new("RabbitStreams:Publishing:Compression", "Zstd"),
        ]);
        var probe = new Probe();
        builder.Services.AddSingleton(probe);
        builder.Services.AddRabbitStreams(builder.Configuration)
            .AddStream(stream)
            .AddConsumer<BytesHandler>(c => c.Stream = stream)
            .AddCompressionCodecs(StreamCompressionCodecs.All);
        using var host = builder.Build();
        await host.StartAsync(ct);
        try
        {
            var publisher = host.Services.GetRequiredService<IStreamPublisher>();
            var confirmed = new ConcurrentQueue<string>();
            await Task.WhenAll(Enumerable.Range(0, Callers).Select(c => Task.Run(async () =>
            {
                for (var i = 0; i < PerCaller; i++)
                {
                    await publisher.PublishAsync(stream, Encoding.UTF8.GetBytes($"{c}-{i}"), ct);
                    confirmed.Enqueue($"{c}-{i}");
                }
            }, ct)));
            Assert.Equal(Callers * PerCaller, confirmed.Count);

            var received = await probe.TakeAsync(Callers * PerCaller);
            var bodies = received.Select(r => Encoding.UTF8.GetString((byte[])r.Message)).ToList();
            Assert.Equal(confirmed.Order(StringComparer.Ordinal), bodies.Order(StringComparer.Ordinal));
            Assert.Equal(Enumerable.Range(0, Callers * PerCaller).Select(i => (ulong)i), received.Select(r => r.Context.Offset));
            for (var c = 0; c < Callers; c++)
            {
                var prefix = $"{c}-";
                Assert.Equal(Enumerable.Range(0, PerCaller).Select(i => $"{c}-{i}"), bodies.Where(b => b.StartsWith(prefix, StringComparison.Ordinal)));
            }

            await Task.Delay(300, ct);
            Assert.False(probe.TryTake(out var extra), $"an extra message was handled: {extra.Message}");
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }

        // The publisher wrote Zstd sub-entry batches: a consumer without the codec cannot read the stream.
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        try
        {
            await using var consumer = await system.CreateConsumerAsync(new ConsumerOptions(stream) { Offset = OffsetSpecification.First }, ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            var ex = await Assert.ThrowsAsync<UnsupportedCompressionException>(async () =>
            {
                await foreach (var delivery in consumer.ReadAllAsync(timeout.Token))
                {
                    Assert.Fail($"a delivery at offset {delivery.Offset} was readable without the Zstd codec");
                }
            });
            Assert.Equal(CompressionType.Zstd, ex.Compression);
        }
        finally
        {
            await system.DeleteStreamAsync(stream, CancellationToken.None);
        }
    }
}
