using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Streams.Client.Tests.Producers;
using Streams.Testing;

namespace Streams.Client.Tests.SuperStreams;

/// <summary>Issue 4 item 2: super-stream producer (hash and key routing) and consumer against the real broker.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class SuperStreamTests(BrokerFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string KeyOf(Message message) => (string)message.ApplicationProperties!["key"]!;

    private static Message Keyed(string key, string? body = null) => new(Encoding.UTF8.GetBytes(body ?? key))
    {
        ApplicationProperties = new Dictionary<string, object?> { ["key"] = key },
    };

    private Task<StreamSystem> ConnectAsync(string name)
    {
        var options = new StreamSystemOptions
        {
            UserName = fixture.Endpoint.UserName,
            Password = fixture.Endpoint.Password,
            VirtualHost = fixture.Endpoint.VirtualHost,
            ConnectionName = name,
        };
        options.Endpoints.Add(new StreamEndpoint(fixture.Endpoint.Host, fixture.Endpoint.Port));
        return StreamSystem.ConnectAsync(options, Ct);
    }

    private static async Task<List<string>> ReadKeysAsync(StreamSystem system, string stream, int count)
    {
        await using var consumer = await system.CreateConsumerAsync(new ConsumerOptions(stream) { Offset = OffsetSpecification.First }, Ct);
        var keys = count == 0 ? [] : (await BrokerStream.ReadAsync(consumer, count)).Select(d => KeyOf(Message.Decode(d.Body))).ToList();
        await BrokerStream.AssertNothingMoreAsync(consumer);
        return keys;
    }

    [Fact]
    public async Task Hash_routing_sends_hello1_to_hello10_to_the_partitions_of_the_reference_vectors()
    {
        await using var system = await ConnectAsync("super-hash");
        var superStream = BrokerFixture.UniqueName("super-hash");
        Assert.True(await system.CreateSuperStreamAsync(superStream, 3, cancellationToken: Ct));
        try
        {
            await using (var producer = await system.CreateSuperStreamProducerAsync(new SuperStreamProducerOptions(superStream, KeyOf), Ct))
            {
                Assert.Equal([$"{superStream}-0", $"{superStream}-1", $"{superStream}-2"], producer.Partitions);
                for (var i = 1; i <= 10; i++)
                {
                    await producer.SendAsync(Keyed($"hello{i}"), Ct);
                }
            }

            // protocol.md §7: hello1→1, hello2→0, hello3→1, hello4→2, hello5→0, hello6→2, hello7→0, hello8→1, hello9→0, hello10→2.
            Assert.Equal(["hello2", "hello5", "hello7", "hello9"], await ReadKeysAsync(system, $"{superStream}-0", 4));
            Assert.Equal(["hello1", "hello3", "hello8"], await ReadKeysAsync(system, $"{superStream}-1", 3));
            Assert.Equal(["hello4", "hello6", "hello10"], await ReadKeysAsync(system, $"{superStream}-2", 3));
        }
        finally
        {
            await system.DeleteSuperStreamAsync(superStream, Ct);
        }
    }

    [Fact]
    public void Hash_partition_matches_the_reference_vectors()
    {
        int[] expected = [1, 0, 1, 2, 0, 2, 0, 1, 0, 2];
        Assert.Equal(expected, Enumerable.Range(1, 10).Select(i => SuperStreamProducer.HashPartition($"hello{i}", 3)));
    }

    [Fact]
    public async Task Key_routing_uses_the_binding_keys_and_rejects_unbound_keys()
    {
        await using var system = await ConnectAsync("super-key");
        var superStream = BrokerFixture.UniqueName("super-key");
        string[] partitions = [$"{superStream}-emea", $"{superStream}-amer", $"{superStream}-apac"];
        Assert.True(await system.CreateSuperStreamAsync(superStream, partitions, ["emea", "amer", "apac"], cancellationToken: Ct));
        try
        {
            var options = new SuperStreamProducerOptions(superStream, KeyOf) { RoutingStrategy = SuperStreamRoutingStrategy.Key, Name = "key-router" };
            await using (var producer = await system.CreateSuperStreamProducerAsync(options, Ct))
            {
                Assert.Equal([partitions[2]], await producer.RouteAsync(Keyed("apac"), Ct));
                foreach (var key in new[] { "emea", "apac", "amer", "emea", "apac", "emea" })
                {
                    await producer.SendAsync(Keyed(key), Ct);
                }

                var ex = await Assert.ThrowsAsync<SuperStreamRoutingException>(() => producer.SendAsync(Keyed("mars"), Ct));
                Assert.Equal("mars", ex.RoutingKey);
                Assert.Equal(superStream, ex.SuperStream);
                Assert.Contains("'mars'", ex.Message, StringComparison.Ordinal);

                // Deduplication is per partition and reference: each partition producer resumes its own sequence.
                var emea = await producer.GetProducerAsync(partitions[0], Ct);
                Assert.Equal("key-router", emea.Name);
                Assert.Equal(3UL, await system.QueryPublisherSequenceAsync("key-router", partitions[0], Ct));
                Assert.Equal(1UL, await system.QueryPublisherSequenceAsync("key-router", partitions[1], Ct));
            }

            Assert.Equal(["emea", "emea", "emea"], await ReadKeysAsync(system, partitions[0], 3));
            Assert.Equal(["amer"], await ReadKeysAsync(system, partitions[1], 1));
            Assert.Equal(["apac", "apac"], await ReadKeysAsync(system, partitions[2], 2));
        }
        finally
        {
            await system.DeleteSuperStreamAsync(superStream, Ct);
        }
    }

    [Fact]
    public async Task Unknown_super_stream_fails_at_creation()
    {
        await using var system = await ConnectAsync("super-missing");
        await Assert.ThrowsAnyAsync<StreamProtocolException>(() =>
            system.CreateSuperStreamProducerAsync(new SuperStreamProducerOptions(BrokerFixture.UniqueName("super-missing"), KeyOf), Ct));
        await Assert.ThrowsAnyAsync<StreamProtocolException>(() =>
            system.CreateSuperStreamConsumerAsync(new SuperStreamConsumerOptions(BrokerFixture.UniqueName("super-missing")), Ct));
    }

    [Fact]
    public async Task Three_single_active_consumers_in_one_group_split_the_partitions()
    {
        await using var system = await ConnectAsync("super-sac");
        var superStream = BrokerFixture.UniqueName("super-sac");
        await system.CreateSuperStreamAsync(superStream, 3, cancellationToken: Ct);
        var received = new ConcurrentQueue<(int Member, string Partition, string Key)>();
        var members = new List<SuperStreamConsumer>();
        try
        {
            for (var member = 0; member < 3; member++)
            {
                var m = member;
                members.Add(await system.CreateSuperStreamConsumerAsync(new SuperStreamConsumerOptions(superStream)
                {
                    Offset = OffsetSpecification.First,
                    Name = "sac-group",
                    SingleActiveConsumer = true,
                    Handler = (delivery, _) =>
                    {
                        received.Enqueue((m, delivery.Stream, KeyOf(Message.DecodeCopy(delivery.Body.Span))));
                        return ValueTask.CompletedTask;
                    },
                }, Ct));
            }

            // The broker settles on one active member per partition, each member owning one partition.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            Dictionary<string, int> owners;
            while (true)
            {
                owners = members.SelectMany((c, i) => c.Consumers.Where(p => p.Value.IsActive).Select(p => (p.Key, i)))
                    .GroupBy(x => x.Key).Where(g => g.Count() == 1).ToDictionary(g => g.Key, g => g.Single().i);
                if (owners.Count == 3 && owners.Values.Distinct().Count() == 3)
                {
                    break;
                }

                Assert.True(DateTime.UtcNow < deadline, "the group never settled on one partition per member");
                await Task.Delay(100, Ct);
            }

            await using (var producer = await system.CreateSuperStreamProducerAsync(new SuperStreamProducerOptions(superStream, KeyOf), Ct))
            {
                for (var i = 1; i <= 30; i++)
                {
                    await producer.SendAsync(Keyed($"hello{i}"), Ct);
                }
            }

            while (received.Count < 30)
            {
                Assert.True(DateTime.UtcNow < deadline + TimeSpan.FromSeconds(30), $"only {received.Count} of 30 messages arrived");
                await Task.Delay(50, Ct);
            }

            await Task.Delay(300, Ct);
            Assert.Equal(30, received.Count);
            Assert.Equal(30, received.Select(r => r.Key).Distinct().Count());
            foreach (var (member, partition, key) in received)
            {
                Assert.Equal($"{superStream}-{SuperStreamProducer.HashPartition(key, 3)}", partition);
                Assert.Equal(owners[partition], member);
            }

            Assert.Equal(3, received.Select(r => r.Member).Distinct().Count());
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }

            await system.DeleteSuperStreamAsync(superStream, Ct);
        }
    }

    [Fact]
    public async Task Super_stream_consumer_receives_every_message_with_its_partition_and_resumes_from_stored_offsets()
    {
        await using var system = await ConnectAsync("super-consume");
        var superStream = BrokerFixture.UniqueName("super-consume");
        await system.CreateSuperStreamAsync(superStream, 3, cancellationToken: Ct);
        try
        {
            await using var producer = await system.CreateSuperStreamProducerAsync(new SuperStreamProducerOptions(superStream, KeyOf), Ct);
            await producer.SendBatchAsync([.. Enumerable.Range(0, 20).Select(i => Keyed($"key-{i}"))], Ct);
            for (var i = 20; i < 30; i++)
            {
                await producer.SendAsync(Keyed($"key-{i}"), Ct);
            }

            var consumerOptions = new SuperStreamConsumerOptions(superStream) { Offset = OffsetSpecification.First, Name = "super-reader" };
            var received = new List<(string Partition, string Key, ulong Offset)>();
            await using (var consumer = await system.CreateSuperStreamConsumerAsync(consumerOptions, Ct))
            {
                Assert.Equal(3, consumer.Consumers.Count);
                received.AddRange(await ReadAsync(consumer, 30));
                foreach (var last in received.GroupBy(r => r.Partition).Select(g => g.Last()))
                {
                    await consumer.StoreOffsetAsync(last.Partition, last.Offset);
                }
            }

            Assert.Equal(30, received.Select(r => r.Key).Distinct().Count());
            foreach (var (partition, key, _) in received)
            {
                Assert.Equal($"{superStream}-{SuperStreamProducer.HashPartition(key, 3)}", partition);
            }

            foreach (var partition in received.GroupBy(r => r.Partition))
            {
                // order kept within a partition
                Assert.Equal(partition.Select(p => p.Offset).Order(), partition.Select(p => p.Offset));
                await WaitForStoredOffsetAsync(system, partition.Key, partition.Last().Offset);
            }

            // A named consumer resumes after the stored offsets: only the new messages arrive.
            for (var i = 30; i < 36; i++)
            {
                await producer.SendAsync(Keyed($"key-{i}"), Ct);
            }

            await using (var consumer = await system.CreateSuperStreamConsumerAsync(consumerOptions, Ct))
            {
                var more = await ReadAsync(consumer, 6);
                Assert.Equal(Enumerable.Range(30, 6).Select(i => $"key-{i}").Order(), more.Select(m => m.Key).Order());
            }
        }
        finally
        {
            await system.DeleteSuperStreamAsync(superStream, Ct);
        }
    }

    [Fact]
    public async Task Super_stream_consumer_with_a_handler_and_new_partitions_picked_up_without_a_restart()
    {
        await using var system = await ConnectAsync("super-refresh");
        var superStream = BrokerFixture.UniqueName("super-refresh");
        await system.CreateSuperStreamAsync(superStream, 2, cancellationToken: Ct);
        try
        {
            var seen = new ConcurrentQueue<(string Partition, string Key)>();
            var consumerOptions = new SuperStreamConsumerOptions(superStream)
            {
                Offset = OffsetSpecification.First,
                PartitionRefreshInterval = TimeSpan.FromMilliseconds(300),
                Handler = (delivery, _) =>
                {
                    seen.Enqueue((delivery.Stream, KeyOf(delivery.DecodeMessage())));
                    return ValueTask.CompletedTask;
                },
            };
            await using var consumer = await system.CreateSuperStreamConsumerAsync(consumerOptions, Ct);
            await using var producer = await system.CreateSuperStreamProducerAsync(
                new SuperStreamProducerOptions(superStream, KeyOf) { PartitionRefreshInterval = TimeSpan.FromMilliseconds(300) }, Ct);
            Assert.Equal(2, producer.Partitions.Count);

            // Add a third partition the way the broker models it: a stream bound to the super stream exchange.
            var third = $"{superStream}-2";
            await system.CreateStreamAsync(third, null, Ct);
            await BindAsync(superStream, third, "2", order: 2);

            await WaitUntilAsync(() => producer.Partitions.Count == 3 && consumer.Partitions.Count == 3);
            Assert.Equal(third, producer.Partitions[2]);
            Assert.True(consumer.Consumers.ContainsKey(third));

            for (var i = 1; i <= 10; i++)
            {
                await producer.SendAsync(Keyed($"hello{i}"), Ct);
            }

            await WaitUntilAsync(() => seen.Count >= 10);
            Assert.Equal(["hello10", "hello4", "hello6"], seen.Where(s => s.Partition == third).Select(s => s.Key).Order(StringComparer.Ordinal));
            Assert.Equal(10, seen.Count);
        }
        finally
        {
            await system.DeleteSuperStreamAsync(superStream, Ct);
        }
    }

    private static async Task<List<(string Partition, string Key, ulong Offset)>> ReadAsync(SuperStreamConsumer consumer, int count)
    {
        var list = new List<(string, string, ulong)>();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(30));
        await foreach (var delivery in consumer.ReadAllAsync(cts.Token))
        {
            list.Add((delivery.Stream, KeyOf(delivery.DecodeMessage()), delivery.Offset));
            if (list.Count == count)
            {
                break;
            }
        }

        return list;
    }

    private static async Task WaitForStoredOffsetAsync(StreamSystem system, string partition, ulong offset)
    {
        await WaitUntilAsync(async () => await system.QueryOffsetAsync("super-reader", partition, Ct) == offset);
    }

    private static Task WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(() => Task.FromResult(condition()));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached within 20 s");
            await Task.Delay(100, Ct);
        }
    }

    private async Task BindAsync(string exchange, string stream, string bindingKey, int order)
    {
        using var http = new HttpClient { BaseAddress = fixture.Endpoint.ManagementUri };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{fixture.Endpoint.UserName}:{fixture.Endpoint.Password}")));
        var vhost = Uri.EscapeDataString(fixture.Endpoint.VirtualHost);
        using var response = await http.PostAsJsonAsync(
            $"api/bindings/{vhost}/e/{Uri.EscapeDataString(exchange)}/q/{Uri.EscapeDataString(stream)}",
            new { routing_key = bindingKey, arguments = new Dictionary<string, object> { ["x-stream-partition-order"] = order } }, Ct);
        response.EnsureSuccessStatusCode();
    }
}
