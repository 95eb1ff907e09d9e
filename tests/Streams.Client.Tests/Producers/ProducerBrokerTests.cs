using System.Collections.Concurrent;
using Streams.Testing;

namespace Streams.Client.Tests.Producers;

[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class ProducerBrokerTests(BrokerFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<BrokerStream> NewStream() => BrokerStream.CreateAsync(fixture, "prod", Ct);

    [Fact]
    public async Task Buffered_publish_of_N_is_consumed_with_correct_offsets_and_bodies()
    {
        await using var s = await NewStream();
        const int N = 5_000;
        await using (var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream), Ct))
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            int confirmed = 0;
            int failed = 0;
            Action<Confirmation> onConfirm = c =>
            {
                if (!c.IsConfirmed)
                {
                    Interlocked.Increment(ref failed);
                }

                if (Interlocked.Increment(ref confirmed) == N)
                {
                    done.TrySetResult();
                }
            };
            for (int i = 0; i < N; i++)
            {
                await producer.Send(BrokerStream.Body(i), onConfirm, Ct);
            }

            await done.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
            Assert.Equal(0, failed);
            Assert.Equal((ulong)N, producer.NextPublishingId);
        }

        await using var consumer = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.First }, Ct);
        var read = await BrokerStream.ReadAsync(consumer, N);
        for (int i = 0; i < N; i++)
        {
            Assert.Equal((ulong)i, read[i].Offset);
            Assert.Equal(BrokerStream.Body(i), read[i].Body);
        }

        Assert.True(Math.Abs((DateTimeOffset.UtcNow - read[0].Timestamp).TotalMinutes) < 5);
    }

    [Fact]
    public async Task SendAsync_completes_after_confirm_and_the_message_is_stored()
    {
        await using var s = await NewStream();
        await using var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream), Ct);
        await producer.SendAsync("hello"u8.ToArray(), Ct);
        Assert.Equal(0, producer.UnconfirmedCount);
        var stats = await s.System.GetStreamStatisticsAsync(s.Stream, Ct);
        Assert.Equal(0ul, stats.CommittedChunkId);
    }

    [Fact]
    public async Task Back_pressure_keeps_at_most_MaxUnconfirmed_in_flight()
    {
        await using var s = await NewStream();
        await using var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream) { MaxUnconfirmed = 5 }, Ct);
        int maxSeen = 0;
        int confirmed = 0;
        for (int i = 0; i < 300; i++)
        {
            await producer.Send(BrokerStream.Body(i), c => { if (c.IsConfirmed) { Interlocked.Increment(ref confirmed); } }, Ct);
            maxSeen = Math.Max(maxSeen, producer.UnconfirmedCount);
        }

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Volatile.Read(ref confirmed) < 300 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, Ct);
        }

        Assert.Equal(300, confirmed);
        Assert.InRange(maxSeen, 1, 5);
    }

    [Fact]
    public async Task Deduplication_confirms_but_does_not_store_resent_ids()
    {
        await using var s = await NewStream();
        var name = BrokerFixture.UniqueName("dedup");
        await using (var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream) { Name = name }, Ct))
        {
            Assert.Equal(1ul, producer.NextPublishingId);
            for (ulong id = 1; id <= 10; id++)
            {
                await producer.SendAsync(id, BrokerStream.Body((int)id), Ct);
            }

            Assert.Equal(10ul, await producer.GetLastPublishingIdAsync(Ct));
        }

        await using (var again = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream) { Name = name }, Ct))
        {
            Assert.Equal(11ul, again.NextPublishingId);
            // Resending 1..10 is confirmed but not stored.
            var bodies = Enumerable.Range(1, 10).Select(i => (ReadOnlyMemory<byte>)BrokerStream.Body(i)).ToArray();
            for (ulong id = 1; id <= 10; id++)
            {
                await again.SendAsync(id, bodies[id - 1], Ct);
            }

            await again.SendAsync("marker"u8.ToArray(), Ct); // auto id 11
            Assert.Equal(11ul, await again.GetLastPublishingIdAsync(Ct));
        }

        await using var consumer = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.First }, Ct);
        var read = await BrokerStream.ReadAsync(consumer, 11);
        Assert.Equal("marker"u8.ToArray(), read[10].Body);
        await BrokerStream.AssertNothingMoreAsync(consumer);
    }

    [Fact]
    public async Task Producer_on_a_missing_stream_fails_at_create()
    {
        await using var s = await NewStream();
        var ex = await Assert.ThrowsAsync<StreamDoesNotExistException>(() =>
            s.System.CreateProducerAsync(new ProducerOptions(BrokerFixture.UniqueName("missing")), Ct));
        Assert.Contains("missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sub_entry_batches_are_consumed_transparently()
    {
        await using var s = await NewStream();
        await using (var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream), Ct))
        {
            await producer.SendAsync(BrokerStream.Body(0), Ct);
            await producer.SendSubEntryAsync(Enumerable.Range(1, 100).Select(i => (ReadOnlyMemory<byte>)BrokerStream.Body(i)).ToArray(), CompressionType.Gzip, Ct);
            await producer.SendSubEntryAsync(Enumerable.Range(101, 50).Select(i => (ReadOnlyMemory<byte>)BrokerStream.Body(i)).ToArray(), CompressionType.None, Ct);
            await producer.SendAsync(BrokerStream.Body(151), Ct);
        }

        await using var consumer = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.First }, Ct);
        var read = await BrokerStream.ReadAsync(consumer, 152);
        for (int i = 0; i < 152; i++)
        {
            Assert.Equal((ulong)i, read[i].Offset);
            Assert.Equal(BrokerStream.Body(i), read[i].Body);
        }

        // Starting in the middle of a compressed sub-batch skips its first records.
        await using var middle = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.Offset(50) }, Ct);
        var tail = await BrokerStream.ReadAsync(middle, 102);
        Assert.Equal(50ul, tail[0].Offset);
        Assert.Equal(BrokerStream.Body(50), tail[0].Body);
    }

    [Fact]
    public async Task Batch_and_amqp_messages_round_trip()
    {
        await using var s = await NewStream();
        await using (var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream), Ct))
        {
            var messages = Enumerable.Range(0, 20).Select(i => new Message(BrokerStream.Body(i))
            {
                ApplicationProperties = new Dictionary<string, object?> { ["i"] = i },
            }).ToArray();
            await producer.SendBatchAsync(messages, Ct);
            await producer.SendAsync(new Message("single"u8.ToArray()), Ct);
        }

        await using var consumer = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.First }, Ct);
        int n = 0;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(20));
        await foreach (var d in consumer.ReadAllAsync(cts.Token))
        {
            var message = d.DecodeMessage();
            if (n < 20)
            {
                Assert.Equal(BrokerStream.Body(n), message.Body.ToArray());
                Assert.Equal(n, Convert.ToInt32(message.ApplicationProperties!["i"], System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                Assert.Equal("single"u8.ToArray(), message.Body.ToArray());
                break;
            }

            n++;
        }

        Assert.Equal(20, n);
    }

    [Fact]
    public async Task Message_larger_than_frame_max_is_refused_and_the_producer_stays_usable()
    {
        await using var s = await NewStream();
        await using var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream), Ct);
        await Assert.ThrowsAsync<FrameTooLargeException>(() => producer.SendAsync(new byte[2 * 1024 * 1024], Ct));
        await producer.SendAsync(new byte[500_000], Ct);
        Assert.True(producer.IsOpen);
    }

    [Fact]
    public async Task Dispose_drains_in_flight_messages()
    {
        await using var s = await NewStream();
        var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream), Ct);
        var statuses = new ConcurrentBag<ConfirmationStatus>();
        for (int i = 0; i < 2_000; i++)
        {
            await producer.Send(BrokerStream.Body(i), c => statuses.Add(c.Status), Ct);
        }

        await producer.DisposeAsync();
        Assert.Equal(2_000, statuses.Count);
        Assert.All(statuses, st => Assert.Equal(ConfirmationStatus.Confirmed, st));
        await Assert.ThrowsAsync<ProducerClosedException>(() => producer.SendAsync(BrokerStream.Body(0), Ct));
    }

    [Fact]
    public async Task Deleting_the_stream_fails_pending_and_closes_the_producer()
    {
        await using var s = await NewStream();
        await using var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream), Ct);
        await producer.SendAsync(BrokerStream.Body(0), Ct);
        await s.System.DeleteStreamAsync(s.Stream, Ct);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (producer.IsOpen && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, Ct);
        }

        Assert.False(producer.IsOpen);
        var ex = await Assert.ThrowsAsync<ProducerClosedException>(() => producer.SendAsync(BrokerStream.Body(1), Ct));
        Assert.Equal(ResponseCode.StreamDoesNotExist, ex.Code);
        Assert.Equal(StreamStatus.Failed, producer.Status);
        await s.System.CreateStreamAsync(s.Stream, null, Ct); // for the fixture's cleanup
    }
}
