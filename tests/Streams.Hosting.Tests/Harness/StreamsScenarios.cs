using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Client;
using Streams.Hosting.Tests.Consuming;
using Streams.Hosting.Tests.Integration;
using Streams.Testing;

namespace Streams.Hosting.Tests.Harness;

/// <summary>
/// Scenarios that run on both the in-memory harness (<see cref="HarnessScenarios"/>) and the real broker
/// (<see cref="BrokerScenarios"/>) with the same assertions, so that the harness cannot drift from the broker.
/// </summary>
public abstract class StreamsScenarios
{
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A host with the application's registration on this scenario's backend.</summary>
    private protected abstract IHost Build(Action<IRabbitStreamsBuilder> configure, Probe probe, Action<RabbitStreamsOptions>? options = null);

    /// <summary>Waits until the offset stored for <paramref name="name"/> on <paramref name="stream"/> is <paramref name="offset"/>.</summary>
    private protected abstract Task WaitForStoredOffsetAsync(IHost host, string stream, string name, ulong offset);

    /// <summary>The first message of <paramref name="stream"/> (e.g. a dead-letter stream), as stored.</summary>
    private protected abstract Task<Message> ReadFirstAsync(IHost host, string stream);

    [Fact]
    public async Task Published_message_is_consumed_and_its_offset_stored()
    {
        var stream = BrokerFixture.UniqueName("scenario-offset");
        var probe = new Probe();
        using var host = Build(b => b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "billing"; c.CommitEveryMessages = 1; }), probe);
        await host.StartAsync(Ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();

        for (var i = 0; i < 3; i++)
        {
            await publisher.PublishAsync(stream, new Order($"o-{i}", i), new PublishOptions { MessageId = $"m-{i}" }, Ct);
        }

        var received = await probe.TakeAsync(3);
        Assert.Equal(["o-0", "o-1", "o-2"], received.Select(r => ((Order)r.Message).Id));
        // Increasing, not consecutive: each stored offset is written into the stream as a tracking chunk that takes an
        // offset (the harness does as the broker does; a commit may land between two publishes).
        var offsets = received.Select(r => r.Context.Offset).ToList();
        Assert.Equal(0UL, offsets[0]);
        Assert.Equal(offsets.Order().Distinct(), offsets);
        Assert.Equal(("m-1", "application/json", "billing"), (received[1].Context.MessageId, received[1].Context.ContentType, received[1].Context.ConsumerName));
        await WaitForStoredOffsetAsync(host, stream, "billing", offsets[^1]);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Failed_message_is_retried_then_dead_lettered_with_the_failure_headers()
    {
        var stream = BrokerFixture.UniqueName("scenario-dlq");
        var probe = new Probe();
        probe.Poison["bad"] = true;
        using var host = Build(b => b.AddStream(stream).AddConsumer<OrderHandler>(c =>
        {
            c.Stream = stream;
            c.Name = "billing";
            c.FailurePolicy = new HandlerFailurePolicy { MaxRetries = 2, RetryDelay = TimeSpan.Zero };
        }), probe);
        await host.StartAsync(Ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();

        await publisher.PublishAsync(stream, new Order("bad", 1m), Ct);
        await publisher.PublishAsync(stream, new Order("good", 2m), Ct);

        Assert.Equal("good", ((Order)(await probe.TakeAsync(1))[0].Message).Id); // the poison message did not block the stream
        var deadLetter = await ReadFirstAsync(host, $"{stream}.dlq");
        var headers = deadLetter.ApplicationProperties!;
        Assert.Equal(typeof(InvalidOperationException).FullName, headers["x-exception-type"]);
        Assert.Equal("poison order bad", headers["x-exception-message"]);
        Assert.Equal(stream, headers["x-original-stream"]);
        Assert.Equal(0L, Convert.ToInt64(headers["x-original-offset"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(3, Convert.ToInt32(headers["x-delivery-attempts"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("billing", headers["x-consumer-name"]);
        Assert.IsType<DateTimeOffset>(headers["x-failed-at"]);
        Assert.Equal(new Order("bad", 1m), System.Text.Json.JsonSerializer.Deserialize<Order>(deadLetter.Body.Span, System.Text.Json.JsonSerializerOptions.Web));
        Assert.Equal(4, probe.Invocations); // 3 attempts for the poison message, 1 for the next
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Filter_values_deliver_only_the_matching_messages()
    {
        var stream = BrokerFixture.UniqueName("scenario-filter");
        var probe = new Probe();
        using var host = Build(b => b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.FilterValues = ["eu"]; }), probe);
        await host.StartAsync(Ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();

        await publisher.PublishAsync(stream, new Order("us-1", 1m), new PublishOptions { FilterValue = "us" }, Ct);
        await publisher.PublishAsync(stream, new Order("eu-1", 2m), new PublishOptions { FilterValue = "eu" }, Ct);
        await publisher.PublishAsync(stream, new Order("none-1", 3m), Ct);
        await publisher.PublishAsync(stream, new Order("eu-2", 4m), new PublishOptions { FilterValue = "eu" }, Ct);

        // In stream order: had a non-matching message been handed over, it would come first.
        var received = await probe.TakeAsync(2);
        Assert.Equal(["eu-1", "eu-2"], received.Select(r => ((Order)r.Message).Id));
        Assert.Equal([1UL, 3UL], received.Select(r => r.Context.Offset));
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task A_consume_filter_short_circuits_a_message_which_then_counts_as_handled()
    {
        var stream = BrokerFixture.UniqueName("scenario-consume-filter");
        var probe = new Probe();
        using var host = Build(b => b.AddStream(stream).AddConsumeFilter<ShortCircuitFilter>()
            .AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "filtered"; c.CommitEveryMessages = 1; }), probe);
        await host.StartAsync(Ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();

        await publisher.PublishAsync(stream, new Order("skip", 1m), Ct);
        await publisher.PublishAsync(stream, new Order("ok", 2m), Ct);

        var received = await probe.TakeAsync(1);
        Assert.Equal("ok", ((Order)received[0].Message).Id);
        Assert.Equal(1, probe.Invocations);
        await WaitForStoredOffsetAsync(host, stream, "filtered", received[0].Context.Offset);
        var status = Assert.Single(host.Services.GetRequiredService<IStreamConsumerMonitor>().GetConsumers());
        Assert.Equal((2L, 0L), (status.HandledCount, status.FailedCount));
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Super_stream_routes_by_the_brokers_hash_and_by_binding_key()
    {
        var hashed = BrokerFixture.UniqueName("scenario-hash");
        var keyed = BrokerFixture.UniqueName("scenario-keys");
        var probe = new Probe();
        using var host = Build(b => b
            .AddSuperStream(hashed, 3)
            .AddSuperStream(keyed, ["eu", "us"])
            .AddConsumer<OrderHandler>(c => { c.Stream = hashed; c.SuperStream = true; c.Name = "hash"; })
            .AddConsumer<TextHandler>(c => { c.Stream = keyed; c.SuperStream = true; c.Name = "keys"; }), probe);
        await host.StartAsync(Ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();

        string[] keys = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"];
        foreach (var key in keys)
        {
            await publisher.PublishAsync(hashed, new Order(key, 1m), new PublishOptions { RoutingKey = key }, Ct);
        }

        await publisher.PublishAsync(keyed, "to-us", new PublishOptions { RoutingKey = "us" }, Ct);
        await publisher.PublishAsync(keyed, "to-eu", new PublishOptions { RoutingKey = "eu" }, Ct);

        var received = await probe.TakeAsync(keys.Length + 2);
        foreach (var (message, context) in received.Where(r => r.Message is Order))
        {
            // MurmurHash3 (seed 104729) of the routing key modulo the partition count, as the broker's Java/Go clients route.
            Assert.Equal($"{hashed}-{SuperStreamProducer.HashPartition(((Order)message).Id, 3)}", context.Partition);
        }

        Assert.Equal(
            [("to-eu", $"{keyed}-eu"), ("to-us", $"{keyed}-us")],
            received.Where(r => r.Message is string).Select(r => ((string)r.Message, r.Context.Partition!)).Order());
        await host.StopAsync(Ct);
    }
}

/// <summary>Handles orders with id "skip" itself: the handler never sees them.</summary>
internal sealed class ShortCircuitFilter : IStreamConsumeFilter
{
    public Task InvokeAsync(StreamConsumeContext context, StreamConsumeDelegate next) =>
        context.Message is Order { Id: "skip" } ? Task.CompletedTask : next(context);
}

/// <summary>The scenarios on the in-memory harness.</summary>
public sealed class HarnessScenarios : StreamsScenarios
{
    private protected override IHost Build(Action<IRabbitStreamsBuilder> configure, Probe probe, Action<RabbitStreamsOptions>? options = null) =>
        HarnessHost.Build(configure, options, probe);

    private protected override Task WaitForStoredOffsetAsync(IHost host, string stream, string name, ulong offset) =>
        host.Harness().WaitForStoredOffsetAsync(stream, name, offset, cancellationToken: Ct);

    private protected override async Task<Message> ReadFirstAsync(IHost host, string stream)
    {
        // What the stream holds, once the first message is there (the harness signals its dead letters).
        await host.Harness().WaitForDeadLetteredAsync(stream[..^".dlq".Length], cancellationToken: Ct);
        return host.Harness().Read(stream)[0].Message;
    }
}

/// <summary>The scenarios on the real broker.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class BrokerScenarios(BrokerFixture broker) : StreamsScenarios
{
    private protected override IHost Build(Action<IRabbitStreamsBuilder> configure, Probe probe, Action<RabbitStreamsOptions>? options = null)
        => TestHost.Build(broker, configure, options, probe);

    private protected override async Task WaitForStoredOffsetAsync(IHost host, string stream, string name, ulong offset)
    {
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        ulong? stored = null;
        await TestHost.WaitUntilAsync(async () => (stored = await system.QueryOffsetAsync(name, stream, Ct)) == offset, $"offset {offset} stored for {name} (last seen {stored})");
    }

    private protected override async Task<Message> ReadFirstAsync(IHost host, string stream)
    {
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        return await TestHost.ReadFirstMessageAsync(system, stream, Ct);
    }
}
