using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Streams.Client;
using Streams.Hosting.Tests.Consuming;
using Streams.Testing;

namespace Streams.Hosting.Tests.Integration;

/// <summary>A dependency whose registration can be switched to fail, like a factory reading a missing secret.</summary>
internal sealed class ActivationSwitch
{
    public volatile bool Fail;
}

internal interface IPaymentGateway
{
    string Name { get; }
}

internal sealed class PaymentGateway : IPaymentGateway
{
    public string Name => "test";
}

[StreamConsumer("set-by-test")]
internal sealed class PaymentHandler(IPaymentGateway gateway, Probe probe) : IStreamHandler<Order>
{
    public Task HandleAsync(Order message, StreamContext context, CancellationToken cancellationToken)
    {
        probe.Record(message with { Id = $"{message.Id}@{gateway.Name}" }, context);
        return Task.CompletedTask;
    }
}

/// <summary>Waits for the host to stop, then gives up the way a handler observing the application's lifetime does.</summary>
[StreamConsumer("set-by-test")]
internal sealed class ShutdownAwareHandler(IHostApplicationLifetime lifetime, Probe probe) : IStreamHandler<Order>
{
    public async Task HandleAsync(Order message, StreamContext context, CancellationToken cancellationToken)
    {
        if (message.Id == "slow")
        {
            probe.Blocked.TrySetResult();
            await Task.Delay(Timeout.Infinite, lifetime.ApplicationStopping);
        }

        probe.Record(message, context);
    }
}

[StreamConsumer("{Orders:Stream}", Name = "{Orders:Consumer}")]
internal sealed class PlaceholderOrderHandler(Probe probe) : IStreamHandler<Order>
{
    public Task HandleAsync(Order message, StreamContext context, CancellationToken cancellationToken)
    {
        probe.Record(message, context);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Issue 14, traps 1 and 3 on the broker: an error of the application's setup (the handler cannot be activated, no
/// serializer reads the content type, the host cancels the handler) stops the consumer or leaves the message for the
/// next run; it is never retried into the dead-letter stream, skipped, or stored past. And attribute placeholders and
/// per-consumer configuration pick the stream that is consumed.
/// </summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class InfrastructureErrorTests(BrokerFixture broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_handler_that_cannot_be_activated_stops_the_consumer_without_dead_lettering_or_storing_the_offset()
    {
        var stream = BrokerFixture.UniqueName("infra-activation");
        var switcher = new ActivationSwitch();
        using var host = TestHost.Build(broker, b =>
        {
            b.Services.AddSingleton(switcher);
            b.Services.AddScoped<IPaymentGateway>(sp => sp.GetRequiredService<ActivationSwitch>().Fail
                ? throw new InvalidOperationException("Payments:ApiKey is not set")
                : new PaymentGateway());
            b.Services.AddHealthChecks().AddRabbitStreams();
            b.AddStream(stream).AddConsumer<PaymentHandler>(c => { c.Stream = stream; c.Name = "payments"; });
        });
        var probe = host.Services.GetRequiredService<Probe>();
        await host.StartAsync(Ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        await publisher.PublishAsync(stream, new Order("o-1", 1), Ct);
        await publisher.PublishAsync(stream, new Order("o-2", 2), Ct);
        Assert.Equal(["o-1@test", "o-2@test"], (await probe.TakeAsync(2)).Select(r => ((Order)r.Message).Id));

        switcher.Fail = true;
        await publisher.PublishAsync(stream, new Order("o-3", 3), Ct);
        var monitor = host.Services.GetRequiredService<IStreamConsumerMonitor>();
        await TestHost.WaitUntilAsync(() => monitor.GetConsumers()[0].State == StreamConsumerState.Faulted, "consumer faulted");

        var status = monitor.GetConsumers()[0];
        var error = Assert.IsType<StreamHandlerActivationException>(status.LastError);
        Assert.Contains("Payments:ApiKey is not set", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{stream}@2", error.Message, StringComparison.Ordinal);
        Assert.Equal((1UL, 0L), (status.LastProcessedOffset!.Value, status.FailedCount));

        var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(Ct);
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.Contains("could not be activated", health.Entries.Single().Value.Description, StringComparison.Ordinal);

        await host.StopAsync(Ct);
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        Assert.Equal(1UL, await system.QueryOffsetAsync("payments", stream, Ct));
        Assert.False(await system.StreamExistsAsync(stream + ".dlq", Ct));
    }

    [Fact]
    public async Task A_content_type_no_serializer_reads_stops_the_consumer_instead_of_dead_lettering_every_message()
    {
        var stream = BrokerFixture.UniqueName("infra-serializer");
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        await system.CreateStreamAsync(stream, null, Ct);
        await using (var producer = await system.CreateProducerAsync(new ProducerOptions(stream), Ct))
        {
            await producer.SendAsync(
                new Message(Encoding.UTF8.GetBytes("{\"id\":\"o-1\",\"amount\":1}")) { Properties = new MessageProperties { ContentType = "application/json" } }, Ct);
            await producer.SendAsync(new Message(new byte[] { 0x0a, 0x03, 0x6f, 0x2d, 0x32 }) { Properties = new MessageProperties { ContentType = "application/x-protobuf" } }, Ct);
            await producer.SendAsync(
                new Message(Encoding.UTF8.GetBytes("{\"id\":\"o-3\",\"amount\":3}")) { Properties = new MessageProperties { ContentType = "application/vnd.orders+json; charset=utf-8" } }, Ct);
        }

        using var host = TestHost.Build(broker, b => b.AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "serializer"; }));
        var probe = host.Services.GetRequiredService<Probe>();
        await host.StartAsync(Ct);
        Assert.Equal("o-1", ((Order)(await probe.TakeAsync(1))[0].Message).Id);
        var monitor = host.Services.GetRequiredService<IStreamConsumerMonitor>();
        await TestHost.WaitUntilAsync(() => monitor.GetConsumers()[0].State == StreamConsumerState.Faulted, "consumer faulted");

        var error = Assert.IsType<StreamSerializerNotFoundException>(monitor.GetConsumers()[0].LastError);
        Assert.Equal("application/x-protobuf", error.ContentType);
        Assert.Contains("register one with AddSerializer", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, monitor.GetConsumers()[0].FailedCount);
        Assert.Single(probe.All);

        await host.StopAsync(Ct);
        Assert.Equal(0UL, await system.QueryOffsetAsync("serializer", stream, Ct));
        Assert.False(await system.StreamExistsAsync(stream + ".dlq", Ct));
    }

    [Fact]
    public async Task A_handler_cancelled_by_the_stopping_host_is_neither_skipped_nor_stored()
    {
        var stream = BrokerFixture.UniqueName("infra-cancel");
        using var host = TestHost.Build(
            broker,
            b => b.AddStream(stream).AddConsumer<ShutdownAwareHandler>(c =>
            {
                c.Stream = stream;
                c.Name = "cancel";
                c.FailurePolicy = new HandlerFailurePolicy { MaxRetries = 0, AfterRetries = FailureAction.Skip };
            }));
        var probe = host.Services.GetRequiredService<Probe>();
        await host.StartAsync(Ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        await publisher.PublishAsync(stream, new Order("fast", 1), Ct);
        await publisher.PublishAsync(stream, new Order("slow", 2), Ct);
        await probe.TakeAsync(1);
        await probe.Blocked.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        await host.StopAsync(Ct);
        var status = host.Services.GetRequiredService<IStreamConsumerMonitor>().GetConsumers()[0];
        Assert.Equal((0L, 0UL), (status.FailedCount, status.LastProcessedOffset!.Value));
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        Assert.Equal(0UL, await system.QueryOffsetAsync("cancel", stream, Ct));
    }

    [Fact]
    public async Task Attribute_placeholders_and_per_consumer_configuration_choose_the_stream_consumed()
    {
        var configured = BrokerFixture.UniqueName("infra-placeholder");
        var overridden = BrokerFixture.UniqueName("infra-byname");
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        foreach (var stream in new[] { configured, overridden })
        {
            await system.CreateStreamAsync(stream, null, Ct);
            await using var producer = await system.CreateProducerAsync(new ProducerOptions(stream), Ct);
            await producer.SendAsync(new Message(Encoding.UTF8.GetBytes($"{{\"id\":\"{stream}\",\"amount\":1}}")), Ct);
        }

        await RunAsync(configured, configured, ("Orders:Stream", configured), ("Orders:Consumer", "placeholder"));
        Assert.Equal(0UL, await system.QueryOffsetAsync("placeholder", configured, Ct));

        await RunAsync(overridden, overridden, ("Orders:Stream", configured), ("Orders:Consumer", "by-name"), ("RabbitStreams:Consumers:ByName:by-name:Stream", overridden));
        Assert.Equal(0UL, await system.QueryOffsetAsync("by-name", overridden, Ct));
        Assert.Null(await system.QueryOffsetAsync("by-name", configured, Ct));

        async Task RunAsync(string expectedStream, string expectedId, params (string Key, string Value)[] settings)
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
            builder.Services.AddSingleton(new Probe());
            builder.Services.AddRabbitStreams(builder.Configuration.GetSection("RabbitStreams"))
                .AddConsumer<PlaceholderOrderHandler>();
            builder.Services.Configure<RabbitStreamsOptions>(o => TestHost.Apply(broker.Endpoint, o));
            using var host = builder.Build();
            await host.StartAsync(Ct);
            var received = await host.Services.GetRequiredService<Probe>().TakeAsync(1);
            Assert.Equal((expectedStream, expectedId), (received[0].Context.Stream, ((Order)received[0].Message).Id));
            await host.StopAsync(Ct);
        }
    }
}
