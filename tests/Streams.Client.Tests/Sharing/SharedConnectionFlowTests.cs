using System.Collections.Concurrent;
using Streams.Client.Tests.Recovery;
using Streams.Testing;
using static Streams.Client.Tests.Recovery.RecoveryHarness;
using static Streams.Client.Tests.Sharing.SharingHarness;

namespace Streams.Client.Tests.Sharing;

/// <summary>
/// Issue 16 item 1: credit and back-pressure stay per consumer on a shared connection, and a lost shared connection
/// recovers every entity on it with the guarantees of a connection of its own.
/// </summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
[Trait("Category", "LocalBroker")]
public sealed class SharedConnectionFlowTests(BrokerFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_consumer_whose_handler_blocks_does_not_stall_another_consumer_on_the_same_connection()
    {
        const int Total = 2_000;
        var name = BrokerFixture.UniqueName("share-slow");
        await using var system = await StreamSystem.ConnectAsync(Options(fixture, name), Ct);
        await system.CreateStreamAsync(name, null, Ct);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            // Many small chunks: each send is confirmed before the next, so the stream holds far more chunks than credits.
            await using (var producer = await system.CreateProducerAsync(new ProducerOptions(name), Ct))
            {
                for (ulong i = 1; i <= Total; i++)
                {
                    await producer.SendAsync(Body(i), Ct);
                }
            }

            var slow = new ConcurrentQueue<ulong>();
            var fast = new ConcurrentQueue<ulong>();
            await using var blocked = await system.CreateConsumerAsync(new ConsumerOptions(name)
            {
                Offset = OffsetSpecification.First,
                Handler = async (d, ct) =>
                {
                    slow.Enqueue(IdOf(d.Body.Span));
                    await release.Task.WaitAsync(ct);
                },
            }, Ct);
            await WaitUntilAsync(() => !slow.IsEmpty, TimeSpan.FromSeconds(30), "the blocked consumer's first message");

            await using var running = await system.CreateConsumerAsync(new ConsumerOptions(name)
            {
                Offset = OffsetSpecification.First,
                Handler = (d, _) =>
                {
                    fast.Enqueue(IdOf(d.Body.Span));
                    return ValueTask.CompletedTask;
                },
            }, Ct);

            // Both on one connection, and the running one reads everything while the other is stuck in its first message.
            AssertPool(system.ConsumerConnections, 1, 1, 2);
            await WaitUntilAsync(() => fast.Count >= Total, TimeSpan.FromSeconds(60), $"the running consumer: {fast.Count} of {Total}");
            AssertExactlyOnceInOrder([.. fast], Total, "running consumer");
            Assert.Equal([1UL], slow.ToList());

            // Unblocked, the slow one catches up exactly.
            release.SetResult();
            await WaitUntilAsync(() => slow.Count >= Total, TimeSpan.FromSeconds(60), $"the unblocked consumer: {slow.Count} of {Total}");
            AssertExactlyOnceInOrder([.. slow], Total, "unblocked consumer");
        }
        finally
        {
            release.TrySetResult();
            await system.DeleteStreamAsync(name, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Force_closing_the_shared_connections_three_times_recovers_every_entity_on_them_without_gaps_or_duplicates()
    {
        const int Producers = 3;
        const int PerProducer = 3_000;
        var name = BrokerFixture.UniqueName("share-recover");
        using var management = ManagementApi(fixture);
        await using var system = await StreamSystem.ConnectAsync(Options(fixture, name), Ct);
        string[] streams = [name + "-0", name + "-1", name + "-2"];
        var unnamedStream = name + "-unnamed";
        foreach (var stream in streams.Append(unnamedStream))
        {
            await system.CreateStreamAsync(stream, null, Ct);
        }

        // An unnamed producer on the same shared connection: what it had in flight fails as ConnectionLost (the
        // caller sees ProducerRecoveryException), the rest is confirmed, and it publishes again after recovery.
        var unnamedStatus = new StatusLog();
        await using var unnamed = await system.CreateProducerAsync(new ProducerOptions(unnamedStream) { Recovery = FastRecovery }, Ct);
        unnamed.StatusChanged += unnamedStatus.Record;
        long unnamedConfirmed = 0, unnamedLost = 0;
        var unnamedOther = new ConcurrentQueue<Confirmation>();
        void OnUnnamedConfirm(Confirmation c)
        {
            if (c.IsConfirmed)
            {
                Interlocked.Increment(ref unnamedConfirmed);
            }
            else if (c.Status == ConfirmationStatus.ConnectionLost && c.ToException() is ProducerRecoveryException)
            {
                Interlocked.Increment(ref unnamedLost);
            }
            else
            {
                unnamedOther.Enqueue(c);
            }
        }

        var producers = new List<Producer>();
        var consumers = new List<Consumer>();
        var received = new List<List<ulong>>();
        var producerStatus = new List<StatusLog>();
        var consumerStatus = new List<StatusLog>();
        try
        {
            // One named producer per stream, and two consumers per stream (one named, one not): 3 + 6 entities on 1 + 1 connections.
            for (int s = 0; s < Producers; s++)
            {
                var producer = await system.CreateProducerAsync(new ProducerOptions(streams[s])
                {
                    Name = $"{name}-p{s}",
                    Recovery = FastRecovery,
                    ConfirmTimeout = TimeSpan.FromMinutes(2),
                }, Ct);
                var log = new StatusLog();
                producer.StatusChanged += log.Record;
                producers.Add(producer);
                producerStatus.Add(log);
                for (int c = 0; c < 2; c++)
                {
                    var ids = new List<ulong>();
                    var options = RecordingConsumerOptions(streams[s], ids);
                    options.Name = c == 0 ? $"{name}-c{s}" : null;
                    var consumer = await system.CreateConsumerAsync(options, Ct);
                    var clog = new StatusLog();
                    consumer.StatusChanged += clog.Record;
                    consumers.Add(consumer);
                    received.Add(ids);
                    consumerStatus.Add(clog);
                }
            }

            AssertPool(system.ProducerConnections, 1, 1, Producers + 1);
            AssertPool(system.ConsumerConnections, 1, 1, 2 * Producers);
            await AssertBrokerConnectionsAsync(management, name + "-producer", 1);
            await AssertBrokerConnectionsAsync(management, name + "-consumer", 1);

            long confirmed = 0;
            var failures = new ConcurrentQueue<Confirmation>();
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

            // Three times during publishing, force-close this system's shared connections (only they carry its unique
            // name): each time the connections its entities recovered onto after the previous close.
            var closed = new HashSet<string>();
            Task closing = Task.CompletedTask;
            int closes = 0;
            int[] markers = [PerProducer / 4, PerProducer / 2, PerProducer * 3 / 4];
            for (int i = 1; i <= PerProducer; i++)
            {
                if (closes < markers.Length && i == markers[closes])
                {
                    await closing;
                    closing = Task.Run(async () =>
                    {
                        await CloseNewConnectionAsync(fixture, management, name + "-producer", closed);
                        await CloseNewConnectionAsync(fixture, management, name + "-consumer", closed);
                    }, Ct);
                    closes++;
                }

                for (int s = 0; s < Producers; s++)
                {
                    await producers[s].Send((ulong)i, Body((ulong)i), OnConfirm, Ct);
                }

                await unnamed.Send(Body((ulong)i), OnUnnamedConfirm, Ct);

                if (closing is { IsCompleted: false } && i % 50 == 0)
                {
                    await Task.Delay(5, Ct);
                }
            }

            await closing;
            Assert.Equal(6, closed.Count);
            const int Total = Producers * PerProducer;
            await WaitUntilAsync(() => Interlocked.Read(ref confirmed) + failures.Count >= Total, TimeSpan.FromMinutes(2),
                $"confirmations ({Interlocked.Read(ref confirmed)} of {Total}; producers {string.Join(", ", producers.Select(p => p.Status))})");
            Assert.Empty(failures);
            await WaitUntilAsync(() => Interlocked.Read(ref unnamedConfirmed) + Interlocked.Read(ref unnamedLost) + unnamedOther.Count >= PerProducer, TimeSpan.FromMinutes(2),
                $"unnamed outcomes ({unnamedConfirmed} confirmed, {unnamedLost} lost of {PerProducer}; {unnamed.Status})");
            Assert.Empty(unnamedOther);
            Assert.True(unnamedStatus.Count(StreamStatus.Recovered) >= 1, $"unnamed producer: {unnamedStatus}");
            await unnamed.SendAsync(Body(PerProducer + 1UL), Ct);

            // Every entity on the lost connections went through its own recovery.
            for (int s = 0; s < Producers; s++)
            {
                Assert.True(producerStatus[s].Count(StreamStatus.Recovered) >= 1, $"producer {s}: {producerStatus[s]}");
            }

            for (int c = 0; c < consumers.Count; c++)
            {
                int index = c;
                await WaitUntilAsync(() => { lock (received[index]) { return received[index].Count >= PerProducer; } }, TimeSpan.FromMinutes(2),
                    $"consumer {c}: {received[c].Count} of {PerProducer} ({consumerStatus[c]})");
                lock (received[c])
                {
                    AssertExactlyOnceInOrder(received[c], PerProducer, $"consumer {c}");
                }

                Assert.True(consumerStatus[c].Count(StreamStatus.Recovered) >= 1, $"consumer {c}: {consumerStatus[c]}");
            }

            // Named producers re-sent with their publishing ids: the broker kept each message once.
            for (int s = 0; s < Producers; s++)
            {
                AssertExactlyOnceInOrder(await ReadBackAsync(system, streams[s], PerProducer), PerProducer, $"stream {s} read back");
            }

            // They recovered onto one shared connection of each kind again, and still work.
            Assert.Equal((1, Producers + 1), (system.ProducerConnections.OpenConnections, system.ProducerConnections.Leases));
            Assert.Equal((1, 2 * Producers), (system.ConsumerConnections.OpenConnections, system.ConsumerConnections.Leases));
            await AssertBrokerConnectionsAsync(management, name + "-producer", 1);
            await AssertBrokerConnectionsAsync(management, name + "-consumer", 1);
            await producers[0].SendAsync(PerProducer + 1UL, Body(PerProducer + 1UL), Ct);
            await WaitUntilAsync(() => { lock (received[0]) { return received[0].Count > PerProducer; } }, TimeSpan.FromSeconds(30), "a message after recovery");
        }
        finally
        {
            foreach (var entity in producers)
            {
                await entity.DisposeAsync();
            }

            foreach (var entity in consumers)
            {
                await entity.DisposeAsync();
            }

            await unnamed.DisposeAsync();
            foreach (var stream in streams.Append(unnamedStream))
            {
                await system.DeleteStreamAsync(stream, CancellationToken.None);
            }
        }
    }

    [Fact]
    public async Task Single_active_consumers_of_one_group_on_a_shared_connection_stay_one_active_across_its_loss()
    {
        var name = BrokerFixture.UniqueName("share-sac");
        using var management = ManagementApi(fixture);
        await using var system = await StreamSystem.ConnectAsync(Options(fixture, name), Ct);
        await system.CreateStreamAsync(name, null, Ct);
        try
        {
            var received = new[] { new ConcurrentQueue<ulong>(), new ConcurrentQueue<ulong>() };
            var statuses = new[] { new StatusLog(), new StatusLog() };
            var members = new List<Consumer>();
            for (int m = 0; m < 2; m++)
            {
                var mine = received[m];
                var member = await system.CreateConsumerAsync(new ConsumerOptions(name)
                {
                    Name = name + "-group",
                    SingleActiveConsumer = true,
                    Offset = OffsetSpecification.First,
                    Recovery = FastRecovery,
                    Handler = (d, _) =>
                    {
                        mine.Enqueue(IdOf(d.Body.Span));
                        return ValueTask.CompletedTask;
                    },
                }, Ct);
                member.StatusChanged += statuses[m].Record;
                members.Add(member);
            }

            AssertPool(system.ConsumerConnections, 1, 1, 2);
            await using var producer = await system.CreateProducerAsync(new ProducerOptions(name), Ct);
            for (ulong i = 1; i <= 100; i++)
            {
                await producer.SendAsync(Body(i), Ct);
            }

            await WaitUntilAsync(() => received.Sum(r => r.Count) >= 100, TimeSpan.FromSeconds(30), "the first 100");
            Assert.Equal(1, members.Count(m => m.IsActive));
            Assert.Single(received, r => !r.IsEmpty);

            Assert.Single(await management.CloseConnectionsAsync(name + "-consumer", Ct));
            await WaitUntilAsync(() => statuses.All(s => s.Count(StreamStatus.Recovered) >= 1), TimeSpan.FromSeconds(60), $"both recovered ({statuses[0]} | {statuses[1]})");
            for (ulong i = 101; i <= 200; i++)
            {
                await producer.SendAsync(Body(i), Ct);
            }

            // The group has one active member again, on one shared connection, and it reads on from where the group was.
            await WaitUntilAsync(() => received.Any(r => r.Contains(200UL)), TimeSpan.FromSeconds(60), "message 200");
            Assert.Equal(1, members.Count(m => m.IsActive));
            var active = received[members.FindIndex(m => m.IsActive)];
            Assert.Equal(Enumerable.Range(101, 100).Select(i => (ulong)i), active.Where(id => id > 100).Distinct().Order());
            Assert.Equal(active.Count, active.Distinct().Count());
            AssertPool(system.ConsumerConnections, 1, 2, 2);
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }
        finally
        {
            await system.DeleteStreamAsync(name, CancellationToken.None);
        }
    }
}
