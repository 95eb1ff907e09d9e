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
    public async Task Entry_that_starts_like_AMQP_but_does_not_decode_is_dead_lettered_with_its_bytes_and_the_consumer_moves_on()
    {
        var ct = TestContext.Current.CancellationToken;
        var stream = BrokerFixture.UniqueName("hosting-undecodable");
        // A data section (0x00 0x53 0x75) announcing 16 bytes of binary and carrying 2: a decoding error, not a raw body.
        byte[] broken = [0x00, 0x53, 0x75, 0xb0, 0x00, 0x00, 0x00, 0x10, 0x01, 0x02];
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        await system.CreateStreamAsync(stream, null, ct);
        await using (var producer = await system.CreateProducerAsync(new ProducerOptions(stream), ct))
        {
            await producer.SendAsync(broken, ct);
            await producer.SendAsync(new Message(Encoding.UTF8.GetBytes("after")), ct);
        }

        using var host = TestHost.Build(broker, b => b.AddConsumer<TextHandler>(c =>
        {
            c.Stream = stream;
            c.FailurePolicy = new HandlerFailurePolicy { MaxRetries = 3, AfterRetries = FailureAction.DeadLetter };
        }));
        await host.StartAsync(ct);
        var probe = host.Services.GetRequiredService<Probe>();
        var received = await probe.TakeAsync(1);
        Assert.Equal("after", (string)received[0].Message);
        Assert.Equal(1UL, received[0].Context.Offset);

        var dead = await TestHost.ReadFirstMessageAsync(system, stream + ".dlq", ct);
        Assert.Equal(broken, dead.Body.ToArray());
        var headers = dead.ApplicationProperties!;
        Assert.Equal(typeof(StreamMessageFormatException).FullName, headers["x-exception-type"]);
        Assert.Contains("not a valid AMQP 1.0 message", (string)headers["x-exception-message"]!, StringComparison.Ordinal);
        Assert.Equal(0L, Convert.ToInt64(headers["x-original-offset"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0, Convert.ToInt32(headers["x-delivery-attempts"], System.Globalization.CultureInfo.InvariantCulture)); // not retried

        var status = Assert.Single(host.Services.GetRequiredService<IStreamConsumerMonitor>().GetConsumers());
        Assert.Equal((StreamConsumerState.Running, 1L, 1L), (status.State, status.HandledCount, status.FailedCount));
        Assert.IsType<StreamMessageFormatException>(status.LastError);
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
