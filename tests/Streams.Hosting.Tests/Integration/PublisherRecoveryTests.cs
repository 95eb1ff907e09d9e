using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Streams.Client;
using Streams.Client.Compression;
using Streams.Testing;

namespace Streams.Hosting.Tests.Integration;

/// <summary>
/// Issue 14, trap 8: with <see cref="RabbitStreamsPublishingOptions.DeduplicationProducerName"/> a lost producer
/// connection is invisible to callers (unconfirmed messages are re-sent and deduplicated: each stored once); without
/// it, a message whose confirm was lost fails with <see cref="StreamPublishOutcomeUnknownException"/> saying what to do.
/// The connection is force-closed while 32 callers keep publishing, so messages are in flight when it goes.
/// </summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class PublisherRecoveryTests(BrokerFixture broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(List<string> Sent, List<Exception> Errors, string Stream)> PublishThroughACloseAsync(string? producerName, bool zstdBatches = false)
    {
        var stream = BrokerFixture.UniqueName("publisher-recovery");
        var connectionName = BrokerFixture.UniqueName("publisher-app");
        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddCompressionCodecs(StreamCompressionCodecs.All), o =>
        {
            o.ConnectionName = connectionName;
            o.Publishing.DeduplicationProducerName = producerName;
            if (zstdBatches)
            {
                o.Publishing.SubEntrySize = 10;
                o.Publishing.Compression = CompressionType.Zstd;
            }
        });
        await host.StartAsync(Ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        await publisher.PublishAsync(stream, "warm-up", Ct);

        var sent = new ConcurrentQueue<string>();
        var errors = new ConcurrentQueue<Exception>();
        using var stop = new CancellationTokenSource();
        var callers = Enumerable.Range(0, 32).Select(c => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var body = $"{c}-{i}";
                try
                {
                    await publisher.PublishAsync(stream, body, Ct);
                    sent.Enqueue(body);
                }
                catch (StreamPublishException ex)
                {
                    errors.Enqueue(ex);
                }
            }
        })).ToArray();

        // Close the producer's connection while the callers publish, and again on the connection it recovered onto,
        // until a round caught messages in flight (an error without a name) or three rounds ran (with a name).
        using var management = new ManagementClient(broker.Endpoint.ManagementUri, broker.Endpoint.UserName, broker.Endpoint.Password);
        var closed = new HashSet<string>(StringComparer.Ordinal);
        for (var round = 0; round < (producerName is null ? 6 : 3) && (producerName is not null || errors.IsEmpty); round++)
        {
            await TestHost.WaitUntilAsync(
                async () => (await management.ConnectionNamesAsync(connectionName + "-producer", Ct)).Except(closed).Any(),
                "the producer's (recovered) connection is listed");
            closed.UnionWith(await management.CloseConnectionsAsync(connectionName + "-producer", Ct));

            // Keep publishing until the producer is back and has confirmed more.
            var before = sent.Count;
            await TestHost.WaitUntilAsync(() => sent.Count > before + 500, "publishing resumed after the close");
        }

        await stop.CancelAsync();
        await Task.WhenAll(callers);
        await host.StopAsync(Ct);
        return (["warm-up", .. sent], [.. errors], stream);
    }

    /// <summary>The stream's message bodies: at least <paramref name="expected"/>, plus any that follow within a second (duplicates).</summary>
    private async Task<List<string>> ReadAllAsync(string stream, int expected)
    {
        var options = new RabbitStreamsOptions();
        TestHost.Apply(broker.Endpoint, options);
        await using var system = await StreamSystem.ConnectAsync(options.ToStreamSystemOptions().AddAllCompressionCodecs(), Ct);
        var bodies = new List<string>();
        await using var consumer = await system.CreateConsumerAsync(new ConsumerOptions(stream) { Offset = OffsetSpecification.First }, Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await foreach (var delivery in consumer.ReadAllAsync(timeout.Token))
            {
                bodies.Add(Encoding.UTF8.GetString(delivery.DecodeMessage().Body.Span));
                if (bodies.Count == expected)
                {
                    timeout.CancelAfter(TimeSpan.FromSeconds(1));
                }
            }
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested && bodies.Count >= expected)
        {
            // Read everything that was there.
        }

        return bodies;
    }

    /// <param name="zstdBatches">
    /// Publishing:SubEntrySize 10 with Zstd: the broker deduplicates per batch (under its last message's id), and the
    /// batches re-sent after the close are the very batches written before it.
    /// </param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task With_a_producer_name_a_lost_connection_costs_callers_no_error_and_stores_every_message_once(bool zstdBatches)
    {
        var (sent, errors, stream) = await PublishThroughACloseAsync(BrokerFixture.UniqueName("orders-api"), zstdBatches);

        Assert.Empty(errors);
        var stored = await ReadAllAsync(stream, sent.Count);
        Assert.Equal(stored.Count, stored.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(sent.Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Without_a_producer_name_a_lost_confirm_fails_with_an_error_that_says_what_to_do()
    {
        var (_, errors, _) = await PublishThroughACloseAsync(null);

        Assert.NotEmpty(errors);
        Assert.All(errors, e =>
        {
            var unknown = Assert.IsType<StreamPublishOutcomeUnknownException>(e);
            Assert.IsType<ProducerRecoveryException>(unknown.InnerException);
            Assert.Contains("it may or may not be stored", unknown.Message, StringComparison.Ordinal);
            Assert.Contains("set RabbitStreams:Publishing:DeduplicationProducerName", unknown.Message, StringComparison.Ordinal);
        });
    }
}
