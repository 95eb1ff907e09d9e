using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Hosting.Tests.Consuming;
using Streams.Testing;

namespace Streams.Hosting.Tests.Integration;

[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class LifecycleTests(BrokerFixture broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Offsets_are_stored_every_N_messages_while_running()
    {
        var stream = BrokerFixture.UniqueName("hosting-every-n");
        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "every3"; c.CommitEveryMessages = 3; c.CommitInterval = TimeSpan.FromHours(1); }));
        await host.StartAsync(Ct);
        var probe = host.Services.GetRequiredService<Probe>();
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        for (var i = 0; i < 7; i++)
        {
            await publisher.PublishAsync(stream, new Order($"n-{i}", i), Ct);
        }

        var received = await probe.TakeAsync(7);
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        var sixth = received[5].Context.Offset;
        await TestHost.WaitUntilAsync(async () => await system.QueryOffsetAsync("every3", stream, Ct) == sixth, "offset of the 6th message stored");
        await host.StopAsync(Ct);
        Assert.Equal(received[6].Context.Offset, await system.QueryOffsetAsync("every3", stream, Ct));
    }

    [Fact]
    public async Task Offsets_are_stored_every_T_when_idle()
    {
        var stream = BrokerFixture.UniqueName("hosting-every-t");
        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "timed"; c.CommitInterval = TimeSpan.FromMilliseconds(100); }));
        await host.StartAsync(Ct);
        var probe = host.Services.GetRequiredService<Probe>();
        await host.Services.GetRequiredService<IStreamPublisher>().PublishAsync(stream, new Order("t", 1), Ct);
        var received = await probe.TakeAsync(1);
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        await TestHost.WaitUntilAsync(async () => await system.QueryOffsetAsync("timed", stream, Ct) == received[0].Context.Offset, "offset stored by the timer");
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Graceful_shutdown_waits_for_the_in_flight_handler_then_stores_its_offset()
    {
        var stream = BrokerFixture.UniqueName("hosting-drain");
        var probe = new Probe { BlockOn = "slow" };
        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "drain"; c.CommitInterval = TimeSpan.FromHours(1); }), probe: probe);
        await host.StartAsync(Ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        await publisher.PublishAsync(stream, new Order("fast", 1), Ct);
        await publisher.PublishAsync(stream, new Order("slow", 2), Ct);
        await publisher.PublishAsync(stream, new Order("after", 3), Ct);
        await probe.Blocked.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        var stop = host.StopAsync(Ct);
        await Task.Delay(200, Ct);
        Assert.False(stop.IsCompleted, "the host waits for the in-flight handler");
        probe.Release.SetResult();
        await stop;

        Assert.Equal(["fast", "slow"], probe.All.Select(r => ((Order)r.Message).Id));
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        Assert.Equal(probe.All.Last().Context.Offset, await system.QueryOffsetAsync("drain", stream, Ct));
    }

    [Fact]
    public async Task Undeserializable_message_follows_the_policy_without_retries()
    {
        var stream = BrokerFixture.UniqueName("hosting-format");
        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<OrderHandler>(c =>
        {
            c.Stream = stream;
            c.FailurePolicy = new HandlerFailurePolicy { AfterRetries = FailureAction.Skip };
        }));
        await host.StartAsync(Ct);
        var probe = host.Services.GetRequiredService<Probe>();
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        await publisher.PublishAsync(stream, new Streams.Client.Message("{not json"u8.ToArray()) { Properties = new() { ContentType = "application/json" } }, Ct);
        await publisher.PublishAsync(stream, new Order("ok", 1), Ct);
        var received = await probe.TakeAsync(1);
        Assert.Equal("ok", ((Order)received[0].Message).Id);
        Assert.Equal(1, Volatile.Read(ref probe.Invocations));
        var status = host.Services.GetRequiredService<IStreamConsumerMonitor>().GetConsumers()[0];
        Assert.Equal(1, status.FailedCount);
        Assert.IsType<StreamMessageFormatException>(status.LastError);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Minimal_api_endpoint_publishes_and_a_handler_receives()
    {
        var stream = BrokerFixture.UniqueName("hosting-web");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton<Probe>();
        builder.Services.AddRabbitStreams(o => TestHost.Apply(broker.Endpoint, o))
            .AddStream(stream)
            .AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "web"; });
        await using var app = builder.Build();
        app.MapPost("/orders", async (Order order, IStreamPublisher publisher, CancellationToken ct) =>
        {
            await publisher.PublishAsync(stream, order, new PublishOptions { MessageId = order.Id }, ct);
            return Results.Accepted();
        });
        await app.StartAsync(Ct);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };

        var response = await http.PostAsJsonAsync("/orders", new Order("web-1", 9.5m), Ct);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        var received = await app.Services.GetRequiredService<Probe>().TakeAsync(1);
        Assert.Equal(new Order("web-1", 9.5m), received[0].Message);
        Assert.Equal("web-1", received[0].Context.MessageId);
        await app.StopAsync(Ct);
    }
}
