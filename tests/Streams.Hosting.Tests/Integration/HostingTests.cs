using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Client;
using Streams.Hosting.Tests.Consuming;
using Streams.Testing;

namespace Streams.Hosting.Tests.Integration;

[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class HostingTests(BrokerFixture broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Published_message_reaches_the_handler_with_its_context()
    {
        var stream = BrokerFixture.UniqueName("hosting-ctx");
        using var host = TestHost.Build(broker, b => b
            .AddStream(stream, s => s.MaxAge = TimeSpan.FromHours(1))
            .AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "billing"; }));
        await host.StartAsync(Ct);
        var probe = host.Services.GetRequiredService<Probe>();
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        var before = DateTimeOffset.UtcNow.AddSeconds(-5);

        await publisher.PublishAsync(stream, new Order("o-1", 10m), new PublishOptions
        {
            MessageId = "m-1",
            CorrelationId = "c-1",
            Headers = new Dictionary<string, object?> { ["tenant"] = "acme", ["priority"] = 3 },
        }, Ct);
        await publisher.PublishAsync(stream, new Order("o-2", 20m), Ct);

        var received = await probe.TakeAsync(2);
        Assert.Equal([new Order("o-1", 10m), new Order("o-2", 20m)], received.Select(r => (Order)r.Message));
        var context = received[0].Context;
        Assert.Equal(stream, context.Stream);
        Assert.Null(context.Partition);
        Assert.Equal(0UL, context.Offset);
        Assert.Equal(1UL, received[1].Context.Offset);
        Assert.Equal("m-1", context.MessageId);
        Assert.Equal("c-1", context.CorrelationId);
        Assert.Equal("application/json", context.ContentType);
        Assert.Equal("billing", context.ConsumerName);
        Assert.Equal("acme", context.Headers["tenant"]);
        Assert.Equal(3, Convert.ToInt32(context.Headers["priority"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, context.Attempt);
        Assert.InRange(context.Timestamp, before, DateTimeOffset.UtcNow.AddSeconds(5));
        Assert.NotNull(context.RawMessage);

        var status = Assert.Single(host.Services.GetRequiredService<IStreamConsumerMonitor>().GetConsumers());
        Assert.Equal((StreamConsumerState.Running, 1UL, 2L), (status.State, status.LastProcessedOffset!.Value, status.HandledCount));
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Restarted_host_resumes_after_the_stored_offset()
    {
        var stream = BrokerFixture.UniqueName("hosting-resume");
        var probe1 = new Probe();
        using (var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "resume"; }),
            o => o.Consumers.CommitInterval = TimeSpan.FromMinutes(5), probe1))
        {
            await host.StartAsync(Ct);
            var publisher = host.Services.GetRequiredService<IStreamPublisher>();
            await Task.WhenAll(Enumerable.Range(0, 5).Select(i => publisher.PublishAsync(stream, new Order($"a-{i}", i), Ct)));
            await probe1.TakeAsync(5);
            await host.StopAsync(Ct); // graceful: stores the last processed offset
        }

        await using (var system = await TestHost.ConnectAsync(broker.Endpoint))
        {
            Assert.Equal(4UL, await system.QueryOffsetAsync("resume", stream, Ct));
        }

        var probe2 = new Probe();
        using (var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "resume"; }), probe: probe2))
        {
            await host.StartAsync(Ct);
            var publisher = host.Services.GetRequiredService<IStreamPublisher>();
            for (var i = 0; i < 3; i++)
            {
                await publisher.PublishAsync(stream, new Order($"b-{i}", i), Ct);
            }

            var received = await probe2.TakeAsync(3);
            // Offsets continue after the stored one (the offset store itself writes a tracking chunk, so they are not contiguous).
            Assert.All(received, r => Assert.True(r.Context.Offset > 4, $"offset {r.Context.Offset} was committed before the restart"));
            Assert.Equal(received.Select(r => r.Context.Offset).Order(), received.Select(r => r.Context.Offset));
            Assert.Equal(["b-0", "b-1", "b-2"], received.Select(r => ((Order)r.Message).Id));
            await Task.Delay(300, Ct);
            Assert.False(probe2.TryTake(out _), "nothing committed is delivered again");
            await host.StopAsync(Ct);
        }
    }

    [Fact]
    public async Task Failing_handler_is_retried_then_the_message_is_dead_lettered_and_the_consumer_moves_on()
    {
        var stream = BrokerFixture.UniqueName("hosting-dlq");
        var probe = new Probe();
        probe.Poison["bad"] = true;
        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "dlq"; }),
            o =>
            {
                o.Consumers.FailurePolicy.MaxRetries = 2;
                o.Consumers.FailurePolicy.RetryDelay = TimeSpan.FromMilliseconds(20);
            },
            probe);
        await host.StartAsync(Ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        await publisher.PublishAsync(stream, new Order("bad", 1), new PublishOptions { MessageId = "m-bad", Headers = new Dictionary<string, object?> { ["tenant"] = "acme" } }, Ct);
        await publisher.PublishAsync(stream, new Order("good", 2), Ct);

        var received = await probe.TakeAsync(1);
        Assert.Equal("good", ((Order)received[0].Message).Id);
        Assert.Equal(4, Volatile.Read(ref probe.Invocations)); // 1 + 2 retries, then the good one

        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        var dead = await TestHost.ReadFirstMessageAsync(system, stream + ".dlq", Ct);
        Assert.Equal(new Order("bad", 1), JsonSerializer.Deserialize<Order>(dead.Body.Span, JsonSerializerOptions.Web));
        Assert.Equal("m-bad", dead.Properties!.MessageId);
        var headers = dead.ApplicationProperties!;
        Assert.Equal("acme", headers["tenant"]);
        Assert.Equal(typeof(InvalidOperationException).FullName, headers["x-exception-type"]);
        Assert.Equal("poison order bad", headers["x-exception-message"]);
        Assert.Equal(stream, headers["x-original-stream"]);
        Assert.Equal(0L, Convert.ToInt64(headers["x-original-offset"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("dlq", headers["x-consumer-name"]);
        Assert.Equal(3, Convert.ToInt32(headers["x-delivery-attempts"], System.Globalization.CultureInfo.InvariantCulture));

        var status = Assert.Single(host.Services.GetRequiredService<IStreamConsumerMonitor>().GetConsumers());
        Assert.Equal((StreamConsumerState.Running, 1L, 1L), (status.State, status.HandledCount, status.FailedCount));
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Stop_policy_stops_the_consumer_without_committing_the_failed_message()
    {
        var stream = BrokerFixture.UniqueName("hosting-stop");
        var probe = new Probe();
        probe.Poison["bad"] = true;
        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c =>
            {
                c.Stream = stream;
                c.Name = "stopper";
                c.FailurePolicy = new HandlerFailurePolicy { MaxRetries = 1, RetryDelay = TimeSpan.FromMilliseconds(10), AfterRetries = FailureAction.Stop };
            }),
            probe: probe);
        await host.StartAsync(Ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        await publisher.PublishAsync(stream, new Order("good-1", 1), Ct);
        await publisher.PublishAsync(stream, new Order("bad", 2), Ct);
        await publisher.PublishAsync(stream, new Order("good-2", 3), Ct);

        var monitor = host.Services.GetRequiredService<IStreamConsumerMonitor>();
        await TestHost.WaitUntilAsync(() => monitor.GetConsumers()[0].State == StreamConsumerState.Faulted, "consumer faulted");
        var status = monitor.GetConsumers()[0];
        Assert.IsType<InvalidOperationException>(status.LastError);
        Assert.Equal(0UL, status.LastProcessedOffset);
        Assert.Equal(0UL, status.LastStoredOffset);
        await Task.Delay(300, Ct);
        Assert.Equal(["good-1"], probe.All.Select(r => ((Order)r.Message).Id));
        Assert.Equal(3, Volatile.Read(ref probe.Invocations));

        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        Assert.Equal(0UL, await system.QueryOffsetAsync("stopper", stream, Ct));
        await host.StopAsync(Ct);
        Assert.Equal(StreamConsumerState.Faulted, monitor.GetConsumers()[0].State);
    }

    [Fact]
    public async Task Batch_handler_receives_raw_bodies_in_order()
    {
        var stream = BrokerFixture.UniqueName("hosting-batch");
        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<RawBatchHandler>(c => { c.Stream = stream; c.Name = "batch"; }));
        var probe = host.Services.GetRequiredService<Probe>();
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        await host.StartAsync(Ct);
        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => publisher.PublishAsync(stream, Encoding.UTF8.GetBytes($"m{i}"), Ct)));

        var received = await probe.TakeAsync(50);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (ulong)i), received.Select(r => r.Context.Offset));
        Assert.Equal(50, probe.BatchSizes.Sum());
        Assert.Equal("application/octet-stream", received[0].Context.ContentType);
        Assert.Equal(
            Enumerable.Range(0, 50).Select(i => $"m{i}").Order(),
            received.Select(r => Encoding.UTF8.GetString((byte[])r.Message)).Order());
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Declared_stream_with_conflicting_arguments_fails_the_start_clearly()
    {
        var stream = BrokerFixture.UniqueName("hosting-conflict");
        await using (var system = await TestHost.ConnectAsync(broker.Endpoint))
        {
            await system.CreateStreamAsync(stream, new StreamSpec { MaxAge = TimeSpan.FromDays(1) }, Ct);
        }

        using var host = TestHost.Build(broker, b => b.AddStream(stream, s => s.MaxAge = TimeSpan.FromDays(2)));
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(Ct));
        Assert.Contains($"stream '{stream}' declared with AddStream", ex.Message, StringComparison.Ordinal);
        Assert.Contains("already exists with different arguments", ex.Message, StringComparison.Ordinal);

        using var same = TestHost.Build(broker, b => b.AddStream(stream, s => s.MaxAge = TimeSpan.FromDays(1)));
        await same.StartAsync(Ct);
        await same.StopAsync(Ct);
    }

    [Fact]
    public async Task Publishing_to_a_missing_stream_throws_a_typed_exception()
    {
        using var host = TestHost.Build(broker, _ => { });
        await host.StartAsync(Ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        var stream = BrokerFixture.UniqueName("hosting-missing");
        var ex = await Assert.ThrowsAsync<StreamPublishException>(() => publisher.PublishAsync(stream, "x", Ct));
        Assert.Equal(stream, ex.Stream);
        Assert.Contains("does not exist", ex.Message, StringComparison.Ordinal);

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => publisher.PublishAsync(stream, "x", cancelled.Token));
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Deduplicated_publishing_drops_repeated_ids()
    {
        var stream = BrokerFixture.UniqueName("hosting-dedup");
        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c => c.Stream = stream),
            o => o.Publishing.DeduplicationProducerName = "dedup-app");
        await host.StartAsync(Ct);
        var probe = host.Services.GetRequiredService<Probe>();
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        await publisher.PublishAsync(stream, new Order("d-1", 1), new PublishOptions { DeduplicationId = 1 }, Ct);
        await publisher.PublishAsync(stream, new Order("d-1-again", 1), new PublishOptions { DeduplicationId = 1 }, Ct);
        await publisher.PublishAsync(stream, new Order("d-2", 2), new PublishOptions { DeduplicationId = 2 }, Ct);
        var received = await probe.TakeAsync(2);
        Assert.Equal(["d-1", "d-2"], received.Select(r => ((Order)r.Message).Id));
        await Task.Delay(300, Ct);
        Assert.False(probe.TryTake(out _));
        await host.StopAsync(Ct);
    }
}
