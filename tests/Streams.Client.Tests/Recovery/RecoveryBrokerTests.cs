using Streams.Testing;
using static Streams.Client.Tests.Recovery.RecoveryHarness;

namespace Streams.Client.Tests.Recovery;

/// <summary>
/// Issue 4 item 1, must-show: a named producer and a consumer survive the broker force-closing every connection three
/// times during publishing. Runs in the non-parallel "faults" collection because close-connections hits every client
/// of the single node.
/// </summary>
[Trait("Category", "Broker")]
[Collection(FaultsCollection.Name)]
[Trait("Category", "LocalBroker")]
public sealed class RecoveryBrokerTests(BrokerFixture fixture)
{
    private const int Total = 100_000;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Named_producer_and_consumer_survive_three_forced_connection_closes_exactly_once_in_order()
    {
        await using var system = await StreamSystem.ConnectAsync(Options(fixture.Endpoint.Host, fixture.Endpoint.Port, "recovery-a"), Ct);
        var stream = BrokerFixture.UniqueName("recovery-a");
        await system.CreateStreamAsync(stream, null, Ct);
        try
        {
            var received = new List<ulong>(Total);
            var consumerStatus = new StatusLog();
            await using var consumer = await system.CreateConsumerAsync(RecordingConsumerOptions(stream, received), Ct);
            consumer.StatusChanged += consumerStatus.Record;

            var producerStatus = new StatusLog();
            await using var producer = await system.CreateProducerAsync(new ProducerOptions(stream)
            {
                Name = BrokerFixture.UniqueName("recovery-a-producer"),
                Recovery = FastRecovery,
                ConfirmTimeout = TimeSpan.FromMinutes(3),
            }, Ct);
            producer.StatusChanged += producerStatus.Record;

            long confirmed = 0;
            var failures = new System.Collections.Concurrent.ConcurrentQueue<Confirmation>();
            void OnConfirm(Confirmation c)
            {
                if (c.IsConfirmed)
                {
                    Interlocked.Increment(ref confirmed);
                }
                else
                {
                    failures.Enqueue(c);
                }
            }

            int closes = 0;
            Task? closing = null;
            int[] markers = [5_000, 35_000, 65_000];
            for (int i = 1; i <= Total; i++)
            {
                if (closes < markers.Length && i == markers[closes])
                {
                    if (closing is not null)
                    {
                        await closing;
                    }

                    closing = BrokerScript.RunAsync("close-connections", cancellationToken: Ct);
                    closes++;
                }

                await producer.Send((ulong)i, Body((ulong)i), OnConfirm, Ct);
                if (closing is not null && i % 100 == 0)
                {
                    // Keep publishing (slowly) while the broker closes the connections.
                    await Task.Delay(5, Ct);
                    if (closing.IsCompleted)
                    {
                        await closing;
                        closing = null;
                    }
                }
            }

            if (closing is not null)
            {
                await closing;
            }

            Assert.Equal(3, closes);
            await WaitUntilAsync(() => Interlocked.Read(ref confirmed) + failures.Count >= Total, TimeSpan.FromMinutes(3), $"confirmations ({Interlocked.Read(ref confirmed)}), producer status {producerStatus}");
            Assert.Empty(failures);
            Assert.Equal(Total, Interlocked.Read(ref confirmed));
            Assert.True(producerStatus.Count(StreamStatus.Recovered) >= 3, $"producer: {producerStatus}");

            await WaitUntilAsync(() => { lock (received) { return received.Count >= Total; } }, TimeSpan.FromMinutes(2), $"consumer deliveries, consumer status {consumerStatus}");
            List<ulong> seen;
            lock (received)
            {
                seen = [.. received];
            }

            AssertExactlyOnceInOrder(seen, Total, "running consumer");
            Assert.True(consumerStatus.Count(StreamStatus.Recovered) >= 3, $"consumer: {consumerStatus}");
            Assert.True(consumer.Status is StreamStatus.Recovered or StreamStatus.Connected);
            Assert.True(producer.Status is StreamStatus.Recovered or StreamStatus.Connected);

            // The stream itself holds each publishing id exactly once.
            AssertExactlyOnceInOrder(await ReadBackAsync(system, stream, Total), Total, "stream read back");
        }
        finally
        {
            await system.DeleteStreamAsync(stream, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Unnamed_producer_fails_written_unconfirmed_messages_with_a_typed_error_and_keeps_publishing()
    {
        await using var system = await StreamSystem.ConnectAsync(Options(fixture.Endpoint.Host, fixture.Endpoint.Port, "recovery-u"), Ct);
        var stream = BrokerFixture.UniqueName("recovery-u");
        await system.CreateStreamAsync(stream, null, Ct);
        try
        {
            await using var producer = await system.CreateProducerAsync(new ProducerOptions(stream) { Recovery = FastRecovery }, Ct);
            await producer.SendAsync(Body(1), Ct);
            await BrokerScript.RunAsync("close-connections", cancellationToken: Ct);
            await WaitUntilAsync(() => producer.Status == StreamStatus.Recovered, TimeSpan.FromSeconds(30), "recovery");

            // After recovery new messages go through.
            await producer.SendAsync(Body(2), Ct);
            Assert.True(producer.IsOpen);
        }
        finally
        {
            await system.DeleteStreamAsync(stream, CancellationToken.None);
        }
    }
}
