using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Hosting.Tests.Consuming;
using Streams.Testing;

namespace Streams.Hosting.Tests.Integration;

[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class RecoveryTests(BrokerFixture broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Consumer_and_producer_recover_after_their_connections_are_closed()
    {
        var stream = BrokerFixture.UniqueName("hosting-recover");
        var connectionName = BrokerFixture.UniqueName("recover-app");
        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "recover"; }),
            o => o.ConnectionName = connectionName);
        await host.StartAsync(Ct);
        var probe = host.Services.GetRequiredService<Probe>();
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        var monitor = host.Services.GetRequiredService<IStreamConsumerMonitor>();
        await publisher.PublishAsync(stream, new Order("before", 1), Ct);
        await probe.TakeAsync(1);

        using var management = new ManagementClient(broker.Endpoint.ManagementUri, broker.Endpoint.UserName, broker.Endpoint.Password);
        // The client recovers the subscription itself (a new connection appears); the hosted consumer keeps running.
        var closed = await management.CloseConnectionsAsync(connectionName + "-consumer", Ct);
        Assert.NotEmpty(closed);
        await TestHost.WaitUntilAsync(async () => (await management.ConnectionNamesAsync(connectionName + "-consumer", Ct)).Except(closed).Any(),
            "consumer reconnected", TimeSpan.FromSeconds(30));
        Assert.Equal(StreamConsumerState.Running, monitor.GetConsumers()[0].State);

        Assert.NotEmpty(await management.CloseConnectionsAsync(connectionName + "-producer", Ct));
        await Task.Delay(500, Ct);
        await publisher.PublishAsync(stream, new Order("after", 2), Ct);

        var received = await probe.TakeAsync(1);
        Assert.Equal("after", ((Order)received[0].Message).Id);
        await Task.Delay(300, Ct);
        Assert.False(probe.TryTake(out _), "nothing handled twice after the re-subscription");
        await host.StopAsync(Ct);
    }
}

[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class StreamLifecycleTests(BrokerFixture broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Deleting_the_stream_faults_the_consumer_and_says_why()
    {
        var stream = BrokerFixture.UniqueName("hosting-deleted");
        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "gone"; }));
        await host.StartAsync(Ct);
        await host.Services.GetRequiredService<IStreamPublisher>().PublishAsync(stream, new Order("x", 1), Ct);
        await host.Services.GetRequiredService<Probe>().TakeAsync(1);

        await using (var system = await TestHost.ConnectAsync(broker.Endpoint))
        {
            await system.DeleteStreamAsync(stream, Ct);
        }

        var monitor = host.Services.GetRequiredService<IStreamConsumerMonitor>();
        await TestHost.WaitUntilAsync(() => monitor.GetConsumers()[0].State == StreamConsumerState.Faulted, "consumer faulted after the stream was deleted");
        var error = Assert.IsType<Streams.Client.StreamDeletedException>(monitor.GetConsumers()[0].LastError);
        Assert.Contains(stream, error.Message, StringComparison.Ordinal);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Handler_cancelled_at_the_shutdown_timeout_leaves_its_message_for_the_next_start()
    {
        var stream = BrokerFixture.UniqueName("hosting-timeout");
        var probe = new Probe { BlockOn = "stuck" };
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(500));
        builder.Services.AddSingleton(probe);
        builder.Services.AddRabbitStreams(o => TestHost.Apply(broker.Endpoint, o))
            .AddStream(stream)
            .AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "timeout"; });
        using (var host = builder.Build())
        {
            await host.StartAsync(Ct);
            var publisher = host.Services.GetRequiredService<IStreamPublisher>();
            await publisher.PublishAsync(stream, new Order("first", 1), Ct);
            await publisher.PublishAsync(stream, new Order("stuck", 2), Ct);
            await probe.Blocked.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
            await host.StopAsync(Ct); // the handler sees its token cancelled after 500 ms
        }

        Assert.Equal(["first"], probe.All.Select(r => ((Order)r.Message).Id));
        var next = new Probe();
        using (var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "timeout"; }), probe: next))
        {
            await host.StartAsync(Ct);
            var received = await next.TakeAsync(1);
            Assert.Equal("stuck", ((Order)received[0].Message).Id);
            await host.StopAsync(Ct);
        }
    }
}
