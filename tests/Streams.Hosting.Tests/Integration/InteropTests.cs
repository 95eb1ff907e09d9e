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
}
