using Streams.Client.Tests.Producers;
using Streams.Testing;

namespace Streams.Client.Tests.Consumers;

[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class ConsumerBrokerTests(BrokerFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<BrokerStream> NewStream() => BrokerStream.CreateAsync(fixture, "cons", Ct);

    private static async Task PublishAsync(BrokerStream s, int from, int count)
    {
        await using var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream), Ct);
        await producer.SendBatchAsync(Enumerable.Range(from, count).Select(i => (ReadOnlyMemory<byte>)BrokerStream.Body(i)).ToArray(), Ct);
    }

    [Fact]
    public async Task Offset_specifications_first_last_next_offset_timestamp()
    {
        await using var s = await NewStream();
        await PublishAsync(s, 0, 10);
        await PublishAsync(s, 10, 10);

        await using (var first = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.First }, Ct))
        {
            var read = await BrokerStream.ReadAsync(first, 20);
            Assert.Equal(Enumerable.Range(0, 20).Select(i => (ulong)i), read.Select(r => r.Offset));
            Assert.Equal(19ul, first.LastOffset);
            Assert.InRange(first.CommittedChunkId!.Value, 10ul, 19ul); // Deliver v2: a chunk of the second batch

        }

        await using (var fromOffset = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.Offset(15) }, Ct))
        {
            var read = await BrokerStream.ReadAsync(fromOffset, 5);
            Assert.Equal(Enumerable.Range(15, 5).Select(i => (ulong)i), read.Select(r => r.Offset));
            Assert.Equal(BrokerStream.Body(15), read[0].Body);
        }

        await using (var last = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.Last }, Ct))
        {
            // The last chunk holds (at least) the last message; nothing before the second batch.
            var read = await BrokerStream.ReadAsync(last, 1);
            Assert.InRange(read[0].Offset, 10ul, 19ul);
        }

        await using (var byTime = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.Timestamp(DateTimeOffset.UtcNow.AddHours(-1)) }, Ct))
        {
            var read = await BrokerStream.ReadAsync(byTime, 1);
            Assert.Equal(0ul, read[0].Offset);
        }

        await using var next = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.Next }, Ct);
        await using var future = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.Timestamp(DateTimeOffset.UtcNow.AddHours(1)) }, Ct);
        await PublishAsync(s, 20, 3);
        var fresh = await BrokerStream.ReadAsync(next, 3);
        Assert.Equal([20ul, 21ul, 22ul], fresh.Select(r => r.Offset));
        var futureRead = await BrokerStream.ReadAsync(future, 3);
        Assert.Equal(20ul, futureRead[0].Offset);
    }

    [Fact]
    public async Task Store_and_query_offset_and_resume_after_it()
    {
        await using var s = await NewStream();
        await PublishAsync(s, 0, 10);
        var name = BrokerFixture.UniqueName("tracker");
        await using (var consumer = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Name = name, Offset = OffsetSpecification.First }, Ct))
        {
            Assert.Null(await consumer.QueryOffsetAsync(Ct));
            var read = await BrokerStream.ReadAsync(consumer, 6);
            await consumer.StoreOffsetAsync(read[5].Offset);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            ulong? stored;
            while ((stored = await consumer.QueryOffsetAsync(Ct)) is null && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20, Ct);
            }

            Assert.Equal(5ul, stored);
        }

        await using var resumed = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Name = name, Offset = OffsetSpecification.First }, Ct);
        var rest = await BrokerStream.ReadAsync(resumed, 4);
        Assert.Equal([6ul, 7ul, 8ul, 9ul], rest.Select(r => r.Offset));
    }

    [Fact]
    public async Task Handler_api_with_small_credit_reads_many_chunks_in_order()
    {
        await using var s = await NewStream();
        await using (var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream) { BatchSize = 7 }, Ct))
        {
            for (int i = 0; i < 500; i++)
            {
                await producer.SendAsync(BrokerStream.Body(i), Ct); // one chunk per message or so
            }
        }

        var received = new List<ulong>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var consumer = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream)
        {
            Offset = OffsetSpecification.First,
            InitialCredits = 1,
            Handler = (d, _) =>
            {
                Assert.Equal(BrokerStream.Body((int)d.Offset), d.Body.ToArray());
                received.Add(d.Offset);
                if (received.Count == 500)
                {
                    done.TrySetResult();
                }

                return ValueTask.CompletedTask;
            },
        }, Ct);
        await done.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(Enumerable.Range(0, 500).Select(i => (ulong)i), received);
        Assert.Equal(499ul, consumer.LastOffset);
        Assert.Throws<InvalidOperationException>(() => consumer.ReadAllAsync(Ct).GetAsyncEnumerator(Ct).MoveNextAsync().AsTask().GetAwaiter().GetResult());
    }

    [Fact]
    public async Task Handler_exception_stops_the_consumer_and_faults_completion()
    {
        await using var s = await NewStream();
        await PublishAsync(s, 0, 3);
        await using var consumer = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream)
        {
            Offset = OffsetSpecification.First,
            Handler = (d, _) => d.Offset == 1 ? throw new InvalidOperationException("poison") : ValueTask.CompletedTask,
        }, Ct);
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => consumer.Completion.WaitAsync(TimeSpan.FromSeconds(20), Ct));
        Assert.Equal("poison", ex.Message);
    }

    [Fact]
    public async Task Consumer_on_a_missing_stream_fails_at_create()
    {
        await using var s = await NewStream();
        await Assert.ThrowsAsync<StreamDoesNotExistException>(() =>
            s.System.CreateConsumerAsync(new ConsumerOptions(BrokerFixture.UniqueName("missing")), Ct));
    }

    [Fact]
    public async Task Stream_deletion_ends_the_enumeration_with_an_error()
    {
        await using var s = await NewStream();
        await PublishAsync(s, 0, 1);
        await using var consumer = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.First }, Ct);
        await BrokerStream.ReadAsync(consumer, 1);
        await s.System.DeleteStreamAsync(s.Stream, Ct);
        await Assert.ThrowsAsync<StreamDeletedException>(() => consumer.Completion.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Equal(StreamStatus.Failed, consumer.Status);
        await s.System.CreateStreamAsync(s.Stream, null, Ct);
    }

    [Fact]
    public async Task Options_are_validated()
    {
        Assert.Throws<ArgumentException>(() => new ConsumerOptions(""));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConsumerOptions("s") { InitialCredits = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConsumerOptions("s") { InitialCredits = 40_000 }.Validate());
        Assert.Throws<ArgumentException>(() => new ConsumerOptions("s") { Name = new string('x', 300) }.Validate());
        Assert.Throws<ArgumentException>(() => new ConsumerOptions("s") { Offset = OffsetSpecification.None }.Validate());
        await using var s = await NewStream();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { InitialCredits = 0 }, Ct));
    }

    [Fact]
    public async Task Single_active_consumer_hands_over_from_the_stored_offset()
    {
        await using var s = await NewStream();
        var group = BrokerFixture.UniqueName("group");
        var firstSeen = new List<ulong>();
        var secondSeen = new List<string>();
        var consumer1 = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream)
        {
            Name = group,
            SingleActiveConsumer = true,
            Offset = OffsetSpecification.First,
            Handler = async (d, _) =>
            {
                lock (firstSeen)
                {
                    firstSeen.Add(d.Offset);
                }

                await d.StoreOffsetAsync();
            },
        }, Ct);
        await using var consumer2 = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream)
        {
            Name = group,
            SingleActiveConsumer = true,
            Offset = OffsetSpecification.First,
            Handler = (d, _) =>
            {
                lock (secondSeen)
                {
                    secondSeen.Add(System.Text.Encoding.UTF8.GetString(d.Body.Span));
                }

                return ValueTask.CompletedTask;
            },
        }, Ct);

        await PublishAsync(s, 0, 5);
        await WaitFor(() => { lock (firstSeen) { return firstSeen.Count == 5; } });
        Assert.True(consumer1.IsActive);
        Assert.False(consumer2.IsActive);
        Assert.Empty(secondSeen);
        await WaitFor(async () => await consumer1.QueryOffsetAsync(Ct) == 4ul);

        await consumer1.DisposeAsync();
        await PublishAsync(s, 5, 3);
        await WaitFor(() => { lock (secondSeen) { return secondSeen.Count >= 3; } });
        Assert.True(consumer2.IsActive);
        // Offsets are not contiguous (each StoreOffset takes one), so compare bodies: exactly the new messages.
        Assert.Equal(["message-5", "message-6", "message-7"], secondSeen);
    }

    [Fact]
    public async Task Filtering_delivers_matching_chunks_and_post_filter_drops_the_rest()
    {
        await using var s = await NewStream();
        await using (var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream)
        {
            FilterValue = m => m.ApplicationProperties?["region"] as string,
        }, Ct))
        {
            foreach (var region in new[] { "eu", "us", "eu", "us" })
            {
                // One batch per region so that chunks hold one filter value each.
                await producer.SendBatchAsync(Enumerable.Range(0, 10).Select(_ => new Message(System.Text.Encoding.UTF8.GetBytes(region))
                {
                    ApplicationProperties = new Dictionary<string, object?> { ["region"] = region },
                }).ToArray(), Ct);
            }
        }

        await using var consumer = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream)
        {
            Offset = OffsetSpecification.First,
            FilterValues = ["eu"],
            PostFilter = d => d.DecodeMessage().ApplicationProperties?["region"] as string == "eu",
        }, Ct);
        var read = await BrokerStream.ReadAsync(consumer, 20);
        Assert.All(read, r => Assert.Equal("eu", System.Text.Encoding.UTF8.GetString(Streams.Client.Amqp.AmqpMessageCodec.Decode(r.Body).Body.Span)));
        await BrokerStream.AssertNothingMoreAsync(consumer);
    }

    private static async Task WaitFor(Func<bool> condition) => await WaitFor(() => Task.FromResult(condition()));

    private static async Task WaitFor(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 15 s");
            await Task.Delay(20, Ct);
        }
    }
}
