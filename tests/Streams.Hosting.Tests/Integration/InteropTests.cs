using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Client;
using Streams.Testing;

namespace Streams.Hosting.Tests.Integration;

[StreamConsumer("set-by-test")]
internal sealed class TextHandler(Probe probe) : IStreamHandler<string>
{
    public Task HandleAsync(string message, StreamContext context, CancellationToken cancellationToken)
    {
        probe.Record(message, context);
        return Task.CompletedTask;
    }
}

[Collection(BrokerCollection.Name)]
public sealed class InteropTests(BrokerFixture broker)
{
    [Fact]
    public async Task Entries_of_a_raw_producer_reach_the_handler_as_bodies()
    {
        var ct = TestContext.Current.CancellationToken;
        var stream = BrokerFixture.UniqueName("hosting-raw");
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        await system.CreateStreamAsync(stream, null, ct);
        await using (var producer = await system.CreateProducerAsync(new ProducerOptions(stream), ct))
        {
            await producer.SendAsync(Encoding.UTF8.GetBytes("raw entry"), ct);
            await producer.SendAsync(new Message(Encoding.UTF8.GetBytes("amqp entry")), ct);
        }

        using var host = TestHost.Build(broker, b => b.AddConsumer<TextHandler>(c => c.Stream = stream));
        await host.StartAsync(ct);
        var received = await host.Services.GetRequiredService<Probe>().TakeAsync(2);
        Assert.Equal(["raw entry", "amqp entry"], received.Select(r => (string)r.Message));
        await host.StopAsync(ct);
    }

    [Fact]
    public async Task Filtered_consumer_sees_only_matching_messages()
    {
        var ct = TestContext.Current.CancellationToken;
        var stream = BrokerFixture.UniqueName("hosting-filter");
        using var host = TestHost.Build(broker, b => b.AddStream(stream).AddConsumer<TextHandler>(c => { c.Stream = stream; c.Name = "eu"; c.FilterValues = ["eu"]; }));
        await host.StartAsync(ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        for (var i = 0; i < 6; i++)
        {
            var region = i % 2 == 0 ? "eu" : "us";
            await publisher.PublishAsync(stream, $"{region}-{i}", new PublishOptions { FilterValue = region }, ct);
        }

        await publisher.PublishAsync(stream, "unfiltered", ct);
        await publisher.PublishAsync(stream, "eu-last", new PublishOptions { FilterValue = "eu" }, ct);
        var probe = host.Services.GetRequiredService<Probe>();
        var received = await probe.TakeAsync(4);
        Assert.Equal(["eu-0", "eu-2", "eu-4", "eu-last"], received.Select(r => (string)r.Message));
        Assert.All(received, r => Assert.Equal("eu", r.Context.Headers[PublishOptions.FilterValueHeader]));
        await host.StopAsync(ct);
    }
}
