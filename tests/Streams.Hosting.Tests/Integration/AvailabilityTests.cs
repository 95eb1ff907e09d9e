using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Streams.Hosting.Internal;
using Streams.Hosting.Tests.Consuming;
using Streams.Testing;

namespace Streams.Hosting.Tests.Integration;

/// <summary>Issue 14: the host survives a broker that is down at start and missing streams, and recovers fast.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class AvailabilityTests(BrokerFixture broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>How many entries of the consumer log (category Streams.Hosting.Consuming) have <paramref name="eventId"/>.</summary>
    private static int Count(FakeLogCollector log, int eventId) =>
        log.GetSnapshot().Count(e => e.Category == "Streams.Hosting.Consuming" && e.Id.Id == eventId);

    private static IHost BuildHost(BrokerFixture broker, Action<IRabbitStreamsBuilder> configure, Action<RabbitStreamsOptions> options, Probe probe, FakeLogCollector? log = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddSimpleConsole();
        if (log is not null)
        {
            builder.Logging.AddProvider(new FakeLoggerProvider(log));
        }

        builder.Services.AddSingleton(probe);
        builder.Services.AddHealthChecks().AddRabbitStreams(o => o.ConnectionGracePeriod = TimeSpan.FromMinutes(5));
        var streams = builder.Services.AddRabbitStreams(o =>
        {
            TestHost.Apply(broker.Endpoint, o);
            o.Consumers.CommitInterval = TimeSpan.FromMilliseconds(200);
            o.Recovery.InitialDelay = TimeSpan.FromMilliseconds(100);
            o.Recovery.MaxDelay = TimeSpan.FromMilliseconds(500);
            options(o);
        });
        configure(streams);
        return builder.Build();
    }

    private static void PointAt(RabbitStreamsOptions o, int port)
    {
        o.Endpoints.Clear();
        o.Endpoints.Add(new RabbitStreamsEndpoint("127.0.0.1", port));
    }

    [Fact]
    public async Task Host_started_with_the_broker_down_connects_once_it_is_reachable_declares_and_consumes_without_restart()
    {
        var stream = BrokerFixture.UniqueName("startdown");
        var declaredLater = BrokerFixture.UniqueName("startdown-declared");
        await using (var system = await TestHost.ConnectAsync(broker.Endpoint))
        {
            await system.CreateStreamAsync(stream, cancellationToken: Ct);
        }

        // A message published while the application is down.
        using (var writer = TestHost.Build(broker, _ => { }))
        {
            await writer.StartAsync(Ct);
            await writer.Services.GetRequiredService<IStreamPublisher>().PublishAsync(stream, new Order("before", 1), Ct);
            await writer.StopAsync(Ct);
        }

        var port = TcpForwarder.FreePort();
        var probe = new Probe();
        using var host = BuildHost(
            broker,
            b => b.AddStream(stream).AddStream(declaredLater).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "startdown"; }),
            o =>
            {
                PointAt(o, port);
                o.Publishing.Timeout = TimeSpan.FromMilliseconds(500);
            },
            probe);

        await host.StartAsync(Ct); // nothing listens on the port: the start returns anyway
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var report = await health.CheckHealthAsync(Ct);
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        var description = report.Entries["rabbitmq-streams"].Description!;
        Assert.Contains($"connecting to RabbitMQ Streams (127.0.0.1:{port})", description, StringComparison.Ordinal);
        Assert.Contains("last error", description, StringComparison.Ordinal);

        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        var ex = await Assert.ThrowsAsync<StreamPublishException>(() => publisher.PublishAsync(stream, new Order("refused", 0), Ct));
        Assert.Contains("the broker is not reachable", ex.Message, StringComparison.Ordinal);
        Assert.NotNull(ex.InnerException);
        Assert.IsNotType<OperationCanceledException>(ex.InnerException, exactMatch: false);
        Assert.Empty(probe.All);

        // The broker "comes up" on that port.
        await using var forwarder = new TcpForwarder(port, broker.Endpoint.Host, broker.Endpoint.Port);
        await TestHost.WaitUntilAsync(async () => (await health.CheckHealthAsync(Ct)).Status == HealthStatus.Healthy, "healthy once the broker is reachable");
        Assert.True(forwarder.Accepted > 0, "the host connected through the port it was configured with");

        var received = await probe.TakeAsync(1);
        Assert.Equal("before", ((Order)received[0].Message).Id);
        await publisher.PublishAsync(stream, new Order("after", 2), Ct);
        received = await probe.TakeAsync(1);
        Assert.Equal("after", ((Order)received[0].Message).Id);

        await using (var system = await TestHost.ConnectAsync(broker.Endpoint))
        {
            Assert.True(await system.StreamExistsAsync(declaredLater, Ct), "the declared stream is created once connected");
        }

        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task A_publish_to_a_declared_stream_waits_for_its_declaration_when_the_host_connects_in_the_background()
    {
        var declared = BrokerFixture.UniqueName("declared-later");
        var port = TcpForwarder.FreePort();
        using var host = BuildHost(broker, b => b.AddStream(declared), o =>
        {
            PointAt(o, port);
            o.Publishing.Timeout = TimeSpan.FromSeconds(30);
        }, new Probe());
        await host.StartAsync(Ct); // nothing listens on the port yet: connecting and declaring go on in the background

        var publish = host.Services.GetRequiredService<IStreamPublisher>().PublishAsync(declared, new Order("first", 1), Ct);
        Assert.False(publish.IsCompleted);
        await using var forwarder = new TcpForwarder(port, broker.Endpoint.Host, broker.Endpoint.Port);

        // Not "stream does not exist": the publish went out once the declaration was done.
        await publish.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await using (var system = await TestHost.ConnectAsync(broker.Endpoint))
        {
            var stats = await system.GetStreamStatisticsAsync(declared, Ct);
            Assert.Equal(0UL, stats.CommittedChunkId); // the message is in the declared stream
        }

        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task FailFast_start_throws_naming_the_endpoint_when_the_broker_is_down()
    {
        var port = TcpForwarder.FreePort();
        using var host = BuildHost(broker, b => b.AddStream(BrokerFixture.UniqueName("failfast")), o =>
        {
            PointAt(o, port);
            o.StartBehavior = RabbitStreamsStartBehavior.FailFast;
        }, new Probe());

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(Ct));
        Assert.Contains($"127.0.0.1:{port}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("RabbitStreams:StartBehavior is FailFast", ex.Message, StringComparison.Ordinal);
        Assert.NotNull(ex.InnerException);
    }

    [Fact]
    public async Task Consumer_on_a_stream_neither_declared_nor_created_faults_with_a_hint_and_makes_health_unhealthy()
    {
        var stream = BrokerFixture.UniqueName("missing");
        var log = new FakeLogCollector();
        using var host = BuildHost(broker, b => b.AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "missing"; }), _ => { }, new Probe(), log);
        await host.StartAsync(Ct);
        var monitor = host.Services.GetRequiredService<IStreamConsumerMonitor>();
        await TestHost.WaitUntilAsync(() => monitor.GetConsumers()[0].State == StreamConsumerState.Faulted, "the consumer faulted");

        var error = Assert.IsType<Streams.Client.StreamDoesNotExistException>(monitor.GetConsumers()[0].LastError);
        Assert.Contains($"stream '{stream}' does not exist: declare it with AddStream(\"{stream}\") or create it", error.Message, StringComparison.Ordinal);
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(Ct);
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        var description = report.Entries["rabbitmq-streams"].Description!;
        Assert.Contains($"missing@{stream} stopped", description, StringComparison.Ordinal);
        Assert.Contains("AddStream", description, StringComparison.Ordinal);
        Assert.Equal(0, Count(log, 11)); // no "subscribing again" loop
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Consumer_with_WaitForStream_waits_unhealthy_until_the_stream_is_created_then_consumes()
    {
        var stream = BrokerFixture.UniqueName("waitfor");
        var probe = new Probe();
        var log = new FakeLogCollector();
        using var host = BuildHost(broker, b => b.AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "waiter"; c.WaitForStream = true; }), _ => { }, probe, log);
        await host.StartAsync(Ct);
        var monitor = host.Services.GetRequiredService<IStreamConsumerMonitor>();
        var health = host.Services.GetRequiredService<HealthCheckService>();
        await TestHost.WaitUntilAsync(() => Count(log, 27) >= 2, "waiting for the stream, logged per check");
        Assert.Equal(StreamConsumerState.WaitingForStream, monitor.GetConsumers()[0].State);
        var report = await health.CheckHealthAsync(Ct);
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Contains($"waiting for stream '{stream}'", report.Entries["rabbitmq-streams"].Description!, StringComparison.Ordinal);

        await using (var system = await TestHost.ConnectAsync(broker.Endpoint))
        {
            await system.CreateStreamAsync(stream, cancellationToken: Ct);
        }

        await host.Services.GetRequiredService<IStreamPublisher>().PublishAsync(stream, new Order("created", 1), Ct);
        var received = await probe.TakeAsync(1);
        Assert.Equal("created", ((Order)received[0].Message).Id);
        Assert.Equal(StreamConsumerState.Running, monitor.GetConsumers()[0].State);
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(Ct)).Status);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task A_forced_connection_close_is_recovered_by_the_client_alone_without_a_hosting_resubscribe()
    {
        await using var run = await ConsumingRun.StartAsync(broker, "fastrecover", o =>
        {
            o.Recovery.InitialDelay = TimeSpan.FromMilliseconds(500); // the defaults
            o.Recovery.MaxDelay = TimeSpan.FromSeconds(30);
        });
        var closed = await run.CloseConsumerConnectionAsync();
        var closedAt = DateTime.UtcNow;
        await TestHost.WaitUntilAsync(() => Count(run.Log, 31) >= 1, "the client recovered the subscription");
        var received = await run.PublishAndTakeAsync("after");
        TestContext.Current.SendDiagnosticMessage($"Resumed {(DateTime.UtcNow - closedAt).TotalMilliseconds:0} ms after closing {string.Join(", ", closed)}");
        Assert.Equal("after", received);

        // The same subscription went on: subscribed once, the client's recovery logged, no hosting re-subscribe.
        Assert.Equal(1, Count(run.Log, 10));
        Assert.True(Count(run.Log, 22) >= 1, "the client's recovery is logged");
        Assert.Equal(0, Count(run.Log, 11));
        Assert.Same(run.Before, ClientConsumer(run.Host));
    }

    [Fact]
    public async Task With_client_recovery_off_a_lost_subscription_is_subscribed_again_at_once_after_the_last_handled_message()
    {
        await using var run = await ConsumingRun.StartAsync(broker, "resubscribe", o => o.Recovery.Enabled = false);
        await run.CloseConsumerConnectionAsync();
        await TestHost.WaitUntilAsync(() => Count(run.Log, 10) == 2, "subscribed again by the hosting layer");
        Assert.Equal("after", await run.PublishAndTakeAsync("after"));
        Assert.False(run.Probe.TryTake(out _), "nothing handled twice after the re-subscription");

        // The first re-subscription is not delayed (the old fixed RecoveryDelay is gone), and it is a new client consumer.
        var resubscribe = Assert.Single(run.Log.GetSnapshot(), e => e.Category == "Streams.Hosting.Consuming" && e.Id.Id == 11);
        Assert.Contains("subscribing again in 00:00:00", resubscribe.Message, StringComparison.Ordinal);
        Assert.NotSame(run.Before, ClientConsumer(run.Host));
    }

    /// <summary>A host with one named consumer that handled a first message, ready to lose its consumer connection.</summary>
    private sealed class ConsumingRun : IAsyncDisposable
    {
        private string _stream = string.Empty;
        private string _connectionName = string.Empty;
        private BrokerFixture _broker = null!;

        public IHost Host { get; private set; } = null!;

        public Probe Probe { get; } = new();

        public FakeLogCollector Log { get; } = new();

        /// <summary>The client consumer before the connection was closed.</summary>
        public object? Before { get; private set; }

        public static async Task<ConsumingRun> StartAsync(BrokerFixture broker, string prefix, Action<RabbitStreamsOptions> options)
        {
            var run = new ConsumingRun { _broker = broker, _stream = BrokerFixture.UniqueName(prefix), _connectionName = BrokerFixture.UniqueName(prefix + "-app") };
            run.Host = BuildHost(
                broker,
                b => b.AddStream(run._stream).AddConsumer<OrderHandler>(c => { c.Stream = run._stream; c.Name = prefix; }),
                o =>
                {
                    o.ConnectionName = run._connectionName;
                    options(o);
                },
                run.Probe,
                run.Log);
            await run.Host.StartAsync(Ct);
            Assert.Equal("before", await run.PublishAndTakeAsync("before"));
            run.Before = ClientConsumer(run.Host);
            Assert.NotNull(run.Before);
            return run;
        }

        public async Task<List<string>> CloseConsumerConnectionAsync()
        {
            using var management = new ManagementClient(_broker.Endpoint.ManagementUri, _broker.Endpoint.UserName, _broker.Endpoint.Password);
            return await management.CloseConnectionsAsync(_connectionName + "-consumer", Ct);
        }

        public async Task<string> PublishAndTakeAsync(string id)
        {
            await Host.Services.GetRequiredService<IStreamPublisher>().PublishAsync(_stream, new Order(id, 1), Ct);
            return ((Order)(await Probe.TakeAsync(1))[0].Message).Id;
        }

        public async ValueTask DisposeAsync()
        {
            await Host.StopAsync(Ct);
            Host.Dispose();
        }
    }

    /// <summary>The client consumer of the first hosted consumer (null while not subscribed).</summary>
    private static Streams.Client.Consumer? ClientConsumer(IHost host)
    {
        const BindingFlags Private = BindingFlags.NonPublic | BindingFlags.Instance;
        var dispatcher = host.Services.GetRequiredService<StreamConsumerDispatcher>();
        var workers = (Array)typeof(StreamConsumerDispatcher).GetField("_workers", Private)!.GetValue(dispatcher)!;
        return (typeof(ConsumerWorker).GetField("_consumer", Private)!.GetValue(workers.GetValue(0)) as Streams.Hosting.Internal.Backend.ClientDeliverySource)?.Consumer;
    }
}
