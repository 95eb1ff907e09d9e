using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Streams.Client;
using Streams.Hosting.Tests.Consuming;
using Streams.Hosting.Tests.Integration;
using Streams.Testing;

namespace Streams.Hosting.Tests.DeadLetters;

/// <summary>Issue 17, item 2: dead letters go back to their stream, once, with their properties and a replay counter.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class DeadLetterReplayTests(BrokerFixture broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Hosted_replay_moves_dead_letters_back_the_consumer_handles_them_and_a_second_run_sends_nothing_new()
    {
        var stream = BrokerFixture.UniqueName("replay-hosted");
        var dlq = stream + ".dlq";
        var probe = new Probe();
        probe.Poison["bad-1"] = true;
        probe.Poison["bad-2"] = true;
        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "replayed"; }),
            o =>
            {
                o.Consumers.FailurePolicy.MaxRetries = 0;
                o.Consumers.FailurePolicy.RetryDelay = TimeSpan.Zero;
            },
            probe);
        await host.StartAsync(Ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        await publisher.PublishAsync(stream, new Order("bad-1", 1), new PublishOptions { MessageId = "m-1", Headers = new Dictionary<string, object?> { ["tenant"] = "acme" } }, Ct);
        await publisher.PublishAsync(stream, new Order("good", 2), Ct);
        await publisher.PublishAsync(stream, new Order("bad-2", 3), Ct);
        Assert.Equal("good", ((Order)(await probe.TakeAsync(1))[0].Message).Id);
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        var deadLetters = await ReadAsync(system, dlq, 2);

        // The cause of bad-1 is fixed; bad-2 still fails.
        probe.Poison.TryRemove("bad-1", out _);
        var replayer = host.Services.GetRequiredService<IStreamDeadLetterReplayer>();
        var moved = await replayer.ReplayAsync(dlq, new DeadLetterReplayOptions { Mode = DeadLetterReplayMode.Move }, Ct);
        Assert.Equal((2L, 0L, 0L, 0UL, deadLetters[1].Offset, false), (moved.Replayed, moved.AlreadyReplayed, moved.Filtered, moved.FirstOffset, moved.LastOffset, moved.DryRun));
        Assert.Equal(2, moved.Targets[stream]);

        var handled = (await probe.TakeAsync(1))[0];
        Assert.Equal("bad-1", ((Order)handled.Message).Id);
        Assert.Equal("m-1", handled.Context.MessageId);
        Assert.Equal("acme", handled.Context.Headers["tenant"]);
        Assert.Equal(1, handled.Context.Headers[DeadLetterHeaders.ReplayCount]);
        Assert.Equal(dlq, handled.Context.Headers[DeadLetterHeaders.ReplayedFromStream]);
        Assert.Equal((long)deadLetters[0].Offset, handled.Context.Headers[DeadLetterHeaders.ReplayedFromOffset]);
        Assert.All(DeadLetterHeaders.FailureHeaders, h => Assert.False(handled.Context.Headers.ContainsKey(h), $"{h} is a failure header"));
        Assert.Equal(deadLetters[1].Offset, await system.QueryOffsetAsync(DeadLetterReplayOptions.TrackingName, dlq, Ct));

        // bad-2 failed again: dead-lettered again, with its replay count.
        var again = (await ReadAsync(system, dlq, 3))[2];
        Assert.Equal(1, again.Message.ApplicationProperties![DeadLetterHeaders.ReplayCount]);
        Assert.Equal(stream, again.Message.ApplicationProperties[DeadLetterHeaders.OriginalStream]);

        // The same range copied again: the target's deduplication has it all.
        var twice = await replayer.ReplayAsync(dlq, new DeadLetterReplayOptions { FromOffset = 0, ToOffset = deadLetters[1].Offset }, Ct);
        Assert.Equal((0L, 2L), (twice.Replayed, twice.AlreadyReplayed));
        Assert.Empty(twice.Targets);

        // A move starts after the last one: only the new dead letter; its second replay counts 2.
        probe.Poison.TryRemove("bad-2", out _);
        var next = await replayer.ReplayAsync(dlq, new DeadLetterReplayOptions { Mode = DeadLetterReplayMode.Move }, Ct);
        Assert.Equal((1L, 0L, again.Offset, again.Offset), (next.Replayed, next.AlreadyReplayed, next.FirstOffset, next.LastOffset));
        var second = (await probe.TakeAsync(1))[0];
        Assert.Equal(("bad-2", 2), (((Order)second.Message).Id, second.Context.Headers[DeadLetterHeaders.ReplayCount]));

        var nothing = await replayer.ReplayAsync(dlq, new DeadLetterReplayOptions { Mode = DeadLetterReplayMode.Move }, Ct);
        Assert.Equal((0L, (ulong?)null), (nothing.Read, nothing.FirstOffset));

        // The stream holds the 3 originals and the 3 replays, nothing more.
        var all = await ReadAllAsync(system, stream);
        Assert.Equal(["bad-1", "good", "bad-2", "bad-1", "bad-2", "bad-2"], all.Select(m => System.Text.Json.JsonSerializer.Deserialize<Order>(m.Message.Body.Span, System.Text.Json.JsonSerializerOptions.Web)!.Id));
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Dry_run_counts_and_writes_nothing_then_a_copy_keeps_the_properties_and_adds_the_counter()
    {
        var target = BrokerFixture.UniqueName("replay-dry");
        var dlq = target + ".dlq";
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        await system.CreateStreamAsync(target, null, Ct);
        await WriteDeadLettersAsync(system, dlq, target, target, target);

        var replayer = new StreamDeadLetterReplayer(system);
        var dry = await replayer.ReplayAsync(dlq, new DeadLetterReplayOptions { DryRun = true, Mode = DeadLetterReplayMode.Move }, Ct);
        Assert.Equal((3L, 0L, true, 0UL, 2UL), (dry.Replayed, dry.AlreadyReplayed, dry.DryRun, dry.FirstOffset, dry.LastOffset));
        Assert.Equal(3, dry.Targets[target]);
        Assert.Null((await system.GetStreamStatisticsAsync(target, Ct)).CommittedChunkId);
        Assert.Equal(0UL, await system.QueryPublisherSequenceAsync(StreamDeadLetterReplayer.ProducerName(dlq, target), target, Ct));
        Assert.Null(await system.QueryOffsetAsync(DeadLetterReplayOptions.TrackingName, dlq, Ct));

        var copy = await replayer.ReplayAsync(dlq, cancellationToken: Ct);
        Assert.Equal((3L, 0L), (copy.Replayed, copy.AlreadyReplayed));
        Assert.Equal(3UL, await system.QueryPublisherSequenceAsync(StreamDeadLetterReplayer.ProducerName(dlq, target), target, Ct));
        Assert.Null(await system.QueryOffsetAsync(DeadLetterReplayOptions.TrackingName, dlq, Ct));
        var replayed = await ReadAllAsync(system, target);
        Assert.Equal(["dead-0", "dead-1", "dead-2"], replayed.Select(m => Encoding.UTF8.GetString(m.Message.Body.Span)));
        var first = replayed[0].Message;
        Assert.Equal(("id-0", "corr-0", "text/plain"), (first.Properties!.MessageId as string, first.Properties.CorrelationId as string, first.Properties.ContentType));
        Assert.Equal("kept", first.ApplicationProperties!["custom"]);
        Assert.Equal(1, first.ApplicationProperties[DeadLetterHeaders.ReplayCount]);
        Assert.False(first.ApplicationProperties.ContainsKey(DeadLetterHeaders.OriginalStream));
        Assert.False(first.ApplicationProperties.ContainsKey(DeadLetterHeaders.ExceptionType));

        // A copy leaves no mark: the next one reads from the first offset and finds everything replayed.
        var again = await replayer.ReplayAsync(dlq, cancellationToken: Ct);
        Assert.Equal((0L, 3L, 0UL), (again.Replayed, again.AlreadyReplayed, again.FirstOffset));
    }

    [Fact]
    public async Task Filter_target_range_and_count_select_the_dead_letters_and_a_dead_letter_without_target_fails_naming_its_offset()
    {
        var a = BrokerFixture.UniqueName("replay-a");
        var b = BrokerFixture.UniqueName("replay-b");
        var elsewhere = BrokerFixture.UniqueName("replay-elsewhere");
        var dlq = BrokerFixture.UniqueName("replay-shared.dlq");
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        foreach (var stream in new[] { a, b, elsewhere })
        {
            await system.CreateStreamAsync(stream, null, Ct);
        }

        // Offsets 0..3: a, b, a, and one without x-original-stream.
        await WriteDeadLettersAsync(system, dlq, a, b, a, null);
        var replayer = new StreamDeadLetterReplayer(system);

        var onlyB = await replayer.ReplayAsync(dlq, new DeadLetterReplayOptions { OriginalStream = b, Mode = DeadLetterReplayMode.Move }, Ct);
        Assert.Equal((1L, 3L), (onlyB.Replayed, onlyB.Filtered));
        Assert.Equal([b], onlyB.Targets.Keys);
        // A filtered move stores its progress under its own name.
        Assert.Equal(3UL, await system.QueryOffsetAsync($"{DeadLetterReplayOptions.TrackingName}:{b}", dlq, Ct));
        Assert.Null(await system.QueryOffsetAsync(DeadLetterReplayOptions.TrackingName, dlq, Ct));

        var ranged = await replayer.ReplayAsync(dlq, new DeadLetterReplayOptions { TargetStream = elsewhere, FromOffset = 1, MaxMessages = 2 }, Ct);
        Assert.Equal((2L, 1UL, 2UL), (ranged.Replayed, ranged.FirstOffset, ranged.LastOffset));
        Assert.Equal(["dead-1", "dead-2"], (await ReadAllAsync(system, elsewhere)).Select(m => Encoding.UTF8.GetString(m.Message.Body.Span)));

        var failure = await Assert.ThrowsAsync<DeadLetterReplayException>(() => replayer.ReplayAsync(dlq, cancellationToken: Ct));
        Assert.Equal((dlq, 3UL), (failure.DeadLetterStream, failure.Offset));
        Assert.Contains(DeadLetterHeaders.OriginalStream, failure.Message, StringComparison.Ordinal);
        // What came before it was replayed: a's two dead letters (b's one was already).
        Assert.Equal(2UL + 1, await system.QueryPublisherSequenceAsync(StreamDeadLetterReplayer.ProducerName(dlq, a), a, Ct));
        Assert.Equal(["dead-0", "dead-2"], (await ReadAllAsync(system, a)).Select(m => Encoding.UTF8.GetString(m.Message.Body.Span)));

        var upTo = await replayer.ReplayAsync(dlq, new DeadLetterReplayOptions { ToOffset = 2 }, Ct);
        Assert.Equal((0L, 3L, 2UL), (upTo.Replayed, upTo.AlreadyReplayed, upTo.LastOffset));

        await Assert.ThrowsAsync<StreamDoesNotExistException>(() => replayer.ReplayAsync(BrokerFixture.UniqueName("replay-missing.dlq"), cancellationToken: Ct));
        var missingTarget = await Assert.ThrowsAsync<StreamDoesNotExistException>(() => replayer.ReplayAsync(dlq, new DeadLetterReplayOptions { TargetStream = BrokerFixture.UniqueName("replay-missing") }, Ct));
        Assert.Contains("replay target", missingTarget.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_hosted_replayer_logs_each_outcome_and_each_failure()
    {
        var target = BrokerFixture.UniqueName("replay-log");
        var dlq = target + ".dlq";
        var log = new FakeLogCollector();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddProvider(new FakeLoggerProvider(log));
        builder.Services.AddRabbitStreams(o => TestHost.Apply(broker.Endpoint, o));
        using var host = builder.Build();
        var replayer = host.Services.GetRequiredService<IStreamDeadLetterReplayer>();
        Assert.IsNotType<StreamDeadLetterReplayer>(replayer);

        await Assert.ThrowsAsync<StreamDoesNotExistException>(() => replayer.ReplayAsync(dlq, cancellationToken: Ct));
        Assert.Single(log.GetSnapshot(), e => e.Category == "Streams.Hosting.DeadLetters" && e.Id.Id == 69 && e.Level == LogLevel.Warning);

        await using (var system = await TestHost.ConnectAsync(broker.Endpoint))
        {
            await system.CreateStreamAsync(target, null, Ct);
            await WriteDeadLettersAsync(system, dlq, target, target);
        }

        var result = await replayer.ReplayAsync(dlq, new DeadLetterReplayOptions { Mode = DeadLetterReplayMode.Move }, Ct);
        Assert.Equal(2, result.Replayed);
        var entry = Assert.Single(log.GetSnapshot(), e => e.Category == "Streams.Hosting.DeadLetters" && e.Id.Id == 68);
        Assert.Equal($"Dead-letter replay of '{dlq}' (Move, dry run: False): 2 replayed, 0 already replayed, 0 filtered, offsets 0..1", entry.Message);
    }

    [Fact]
    public async Task Invalid_arguments_are_rejected_before_anything_is_read()
    {
        Assert.Throws<ArgumentNullException>(() => new StreamDeadLetterReplayer(null!));
        Assert.Throws<ArgumentException>(() => new DeadLetterReplayOptions { TargetStream = "" }.Validate());
        Assert.Throws<ArgumentException>(() => new DeadLetterReplayOptions { OriginalStream = "" }.Validate());
        Assert.Throws<ArgumentException>(() => new DeadLetterReplayOptions { FromOffset = 5, ToOffset = 4 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new DeadLetterReplayOptions { MaxMessages = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new DeadLetterReplayOptions { EndProbeTimeout = TimeSpan.Zero }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new DeadLetterReplayOptions { Mode = (DeadLetterReplayMode)7 }.Validate());
        Assert.Equal("streams-dlq-replay:orders.dlq:orders", StreamDeadLetterReplayer.ProducerName("orders.dlq", "orders"));
        var longName = new string('s', 200);
        var hashed = StreamDeadLetterReplayer.ProducerName(longName + ".dlq", longName);
        Assert.True(Encoding.UTF8.GetByteCount(hashed) <= 255, hashed);
        Assert.NotEqual(hashed, StreamDeadLetterReplayer.ProducerName(longName + ".dlq", longName + "x"));

        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        var replayer = new StreamDeadLetterReplayer(system);
        await Assert.ThrowsAsync<ArgumentException>(() => replayer.ReplayAsync("", cancellationToken: Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => replayer.ReplayAsync("any.dlq", new DeadLetterReplayOptions { MaxMessages = -1 }, Ct));
    }

    /// <summary>Dead letters as the failure policy writes them: body dead-{i}, properties, and x-original-stream when not null.</summary>
    internal static async Task WriteDeadLettersAsync(StreamSystem system, string dlq, params string?[] originals)
    {
        await system.CreateStreamAsync(dlq, null, Ct);
        await using var producer = await system.CreateProducerAsync(new ProducerOptions(dlq), Ct);
        for (var i = 0; i < originals.Length; i++)
        {
            var message = new Message(Encoding.UTF8.GetBytes($"dead-{i}"))
            {
                Properties = new MessageProperties { MessageId = $"id-{i}", CorrelationId = $"corr-{i}", ContentType = "text/plain" },
                ApplicationProperties = new Dictionary<string, object?>
                {
                    ["custom"] = "kept",
                    [DeadLetterHeaders.ExceptionType] = typeof(InvalidOperationException).FullName,
                    [DeadLetterHeaders.ExceptionMessage] = "boom",
                    [DeadLetterHeaders.OriginalOffset] = (long)i,
                    [DeadLetterHeaders.DeliveryAttempts] = 1,
                },
            };
            if (originals[i] is { } original)
            {
                message.ApplicationProperties[DeadLetterHeaders.OriginalStream] = original;
            }

            await producer.SendAsync(message, Ct);
        }
    }

    private static async Task<List<(ulong Offset, Message Message)>> ReadAsync(StreamSystem system, string stream, int count)
    {
        // The failure policy creates the dead-letter stream with the first dead letter.
        using (var exists = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            exists.CancelAfter(TimeSpan.FromSeconds(30));
            while (!await system.StreamExistsAsync(stream, exists.Token))
            {
                await Task.Delay(50, exists.Token);
            }
        }

        await using var consumer = await system.CreateConsumerAsync(new ConsumerOptions(stream) { Offset = OffsetSpecification.First }, Ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(30));
        var read = new List<(ulong, Message)>();
        await foreach (var delivery in consumer.ReadAllAsync(cts.Token))
        {
            read.Add((delivery.Offset, delivery.DecodeMessage()));
            if (read.Count == count)
            {
                break;
            }
        }

        return read;
    }

    /// <summary>Every message of <paramref name="stream"/> up to its end now.</summary>
    private static async Task<List<(ulong Offset, Message Message)>> ReadAllAsync(StreamSystem system, string stream)
    {
        var end = await StreamEnd.ProbeAsync(system, stream, TimeSpan.FromSeconds(10), Ct);
        var read = new List<(ulong, Message)>();
        if (end is null)
        {
            return read;
        }

        await using var consumer = await system.CreateConsumerAsync(new ConsumerOptions(stream) { Offset = OffsetSpecification.First }, Ct);
        await foreach (var delivery in consumer.ReadAllAsync(Ct))
        {
            read.Add((delivery.Offset, delivery.DecodeMessage()));
            if (delivery.Offset >= end.LastOffset)
            {
                break;
            }
        }

        return read;
    }
}
