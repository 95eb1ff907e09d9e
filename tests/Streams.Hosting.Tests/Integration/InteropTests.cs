using System.Runtime.InteropServices;
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

[StreamConsumer("set-by-test")]
internal sealed class BytesHandler(Probe probe) : IStreamHandler<byte[]>
{
    public Task HandleAsync(byte[] message, StreamContext context, CancellationToken cancellationToken)
    {
        probe.Record(message, context);
        return Task.CompletedTask;
    }
}

[StreamConsumer("set-by-test")]
internal sealed class MessageHandler(Probe probe) : IStreamHandler<Message>
{
    public Task HandleAsync(Message message, StreamContext context, CancellationToken cancellationToken)
    {
        probe.Record(message, context);
        return Task.CompletedTask;
    }
}

[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class InteropTests(BrokerFixture broker)
{
    /// <summary>A new stream and a raw client connection, to write entries the way other clients do.</summary>
    private async Task<(StreamSystem System, string Stream)> CreateStreamAsync(string prefix, CancellationToken ct)
    {
        var stream = BrokerFixture.UniqueName(prefix);
        var system = await TestHost.ConnectAsync(broker.Endpoint);
        try
        {
            await system.CreateStreamAsync(stream, null, ct);
            return (system, stream);
        }
        catch
        {
            await system.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task Body_alone_entries_reach_byte_and_message_handlers_with_their_message_built_on_demand()
    {
        var ct = TestContext.Current.CancellationToken;
        var (system, stream) = await CreateStreamAsync("hosting-bare", ct);
        await using var _ = system;
        var large = new byte[300]; // vbin32 on the wire
        Random.Shared.NextBytes(large);
        await using (var producer = await system.CreateProducerAsync(new ProducerOptions(stream), ct))
        {
            await producer.SendAsync(new Message(Encoding.UTF8.GetBytes("bare")), ct);
            await producer.SendAsync(new Message(large), ct);
            await producer.SendAsync(Encoding.UTF8.GetBytes("not amqp"), ct);
            await producer.SendAsync(new Message(Encoding.UTF8.GetBytes("with id")) { Properties = new MessageProperties { MessageId = "m-1" } }, ct);
        }

        var bytesProbe = new Probe();
        using (var host = TestHost.Build(broker, b => b.AddConsumer<BytesHandler>(c => c.Stream = stream), probe: bytesProbe))
        {
            await host.StartAsync(ct);
            var received = await bytesProbe.TakeAsync(4);
            await host.StopAsync(ct);

            Assert.Equal(["bare", Convert.ToHexString(large), "not amqp", "with id"], received.Select((r, i) => i == 1 ? Convert.ToHexString((byte[])r.Message) : Encoding.UTF8.GetString((byte[])r.Message)));
            Assert.Empty(received[0].Context.Headers);
            Assert.Null(received[0].Context.MessageId);
            Assert.Equal("m-1", received[3].Context.MessageId);

            // The message of a body alone is built when read: around the very array the handler got, once.
            var raw = received[0].Context.RawMessage;
            Assert.NotNull(raw);
            Assert.Same(received[0].Message, MemoryMarshal.TryGetArray(raw.Body, out var segment) ? segment.Array : null);
            Assert.Same(raw, received[0].Context.RawMessage);
            Assert.Equal(MessageBodyKind.Data, raw.BodyKind);
            Assert.Null(raw.Properties);
            Assert.Null(raw.ApplicationProperties);
        }

        var messageProbe = new Probe();
        using (var host = TestHost.Build(broker, b => b.AddConsumer<MessageHandler>(c => c.Stream = stream), probe: messageProbe))
        {
            await host.StartAsync(ct);
            var received = await messageProbe.TakeAsync(4);
            await host.StopAsync(ct);

            Assert.Equal(["bare", "not amqp", "with id"], received.Where((_, i) => i != 1).Select(r => Encoding.UTF8.GetString(((Message)r.Message).Body.Span)));
            Assert.Equal(large, ((Message)received[1].Message).Body.ToArray());
            Assert.All(received, r => Assert.Same(r.Message, r.Context.RawMessage));
        }
    }

    [Fact]
    public async Task Body_alone_entries_count_as_unfiltered_when_a_consumer_filters()
    {
        var ct = TestContext.Current.CancellationToken;
        var (system, stream) = await CreateStreamAsync("hosting-bare-filter", ct);
        await using var _ = system;
        static Message Tagged(string text) =>
            new(Encoding.UTF8.GetBytes(text)) { ApplicationProperties = new Dictionary<string, object?> { [PublishOptions.FilterValueHeader] = "eu" } };

        // One batch, so one chunk: its Bloom filter holds "eu", the broker sends it whole and the client sorts it out.
        var options = new ProducerOptions(stream) { FilterValue = m => m.ApplicationProperties?[PublishOptions.FilterValueHeader] as string };
        await using (var producer = await system.CreateProducerAsync(options, ct))
        {
            await producer.SendBatchAsync([Tagged("eu-1"), new Message(Encoding.UTF8.GetBytes("bare")), Tagged("eu-2")], ct);
            await producer.SendBatchAsync([Tagged("eu-3")], ct);
        }

        foreach (var matchUnfiltered in new[] { false, true })
        {
            var probe = new Probe();
            using var host = TestHost.Build(
                broker, b => b.AddConsumer<TextHandler>(c => { c.Stream = stream; c.FilterValues = ["eu"]; c.MatchUnfiltered = matchUnfiltered; }), probe: probe);
            await host.StartAsync(ct);
            var expected = matchUnfiltered ? new[] { "eu-1", "bare", "eu-2", "eu-3" } : ["eu-1", "eu-2", "eu-3"];
            var received = await probe.TakeAsync(expected.Length);
            await host.StopAsync(ct);
            Assert.Equal(expected, received.Select(r => (string)r.Message));
        }
    }

    [Fact]
    public async Task Entries_of_a_raw_producer_reach_the_handler_as_bodies()
    {
        var ct = TestContext.Current.CancellationToken;
        var (system, stream) = await CreateStreamAsync("hosting-raw", ct);
        await using var _ = system;
        try
        {
            // A data section whose descriptor is a full ulong (0x00 0x80 + 8 bytes): AMQP by the client's rule, decoded.
            byte[] ulongForm = [0x00, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x75, 0xa0, 0x0a, .. Encoding.UTF8.GetBytes("ulong form")];
            await using (var producer = await system.CreateProducerAsync(new ProducerOptions(stream), ct))
            {
                // Raw entries as rstream's binary codec writes them: the bytes alone, no AMQP sections (one of them empty).
                await producer.SendAsync(Encoding.UTF8.GetBytes("raw entry"), ct);
                await producer.SendAsync(ReadOnlyMemory<byte>.Empty, ct);
                await producer.SendAsync(new Message(Encoding.UTF8.GetBytes("amqp entry")), ct);
                await producer.SendAsync(ulongForm, ct);
                await producer.SendAsync(Encoding.UTF8.GetBytes("Hello, World!"), ct);
            }

            string[] expected = ["raw entry", "", "amqp entry", "ulong form", "Hello, World!"];
            EntryFormat[] formats = [EntryFormat.Raw, EntryFormat.Raw, EntryFormat.Amqp, EntryFormat.Amqp, EntryFormat.Raw];
            using (var host = TestHost.Build(broker, b => b.AddConsumer<TextHandler>(c => c.Stream = stream)))
            {
                await host.StartAsync(ct);
                var received = await host.Services.GetRequiredService<Probe>().TakeAsync(expected.Length);
                Assert.Equal(expected, received.Select(r => (string)r.Message));
                Assert.Equal(formats, received.Select(r => r.Context.RawMessage!.Format));
                await host.StopAsync(ct);
            }

            var bytesProbe = new Probe();
            using (var host = TestHost.Build(broker, b => b.AddConsumer<BytesHandler>(c => c.Stream = stream), probe: bytesProbe))
            {
                await host.StartAsync(ct);
                var received = await bytesProbe.TakeAsync(expected.Length);
                await host.StopAsync(ct);
                Assert.Equal(expected, received.Select(r => Encoding.UTF8.GetString((byte[])r.Message)));
                Assert.Equal(formats, received.Select(r => r.Context.RawMessage!.Format));

                // A raw entry's message is built around the very array the handler got; it has no headers or ids.
                var raw = received[0].Context.RawMessage!;
                Assert.Same(received[0].Message, MemoryMarshal.TryGetArray(raw.Body, out var segment) ? segment.Array : null);
                Assert.Same(raw, received[0].Context.RawMessage);
                Assert.Empty(received[0].Context.Headers);
                Assert.Null(received[0].Context.MessageId);
            }

            var messageProbe = new Probe();
            using (var host = TestHost.Build(broker, b => b.AddConsumer<MessageHandler>(c => c.Stream = stream), probe: messageProbe))
            {
                await host.StartAsync(ct);
                var received = await messageProbe.TakeAsync(expected.Length);
                await host.StopAsync(ct);
                var messages = received.Select(r => (Message)r.Message).ToList();
                Assert.Equal(expected, messages.Select(m => Encoding.UTF8.GetString(m.Body.Span)));
                Assert.Equal(formats, messages.Select(m => m.Format));
                Assert.All(messages, m => Assert.Equal(MessageBodyKind.Data, m.BodyKind));
                Assert.All(received, r => Assert.Same(r.Message, r.Context.RawMessage));
            }
        }
        finally
        {
            await system.DeleteStreamAsync(stream, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Entry_that_starts_like_AMQP_but_does_not_decode_is_dead_lettered_with_its_bytes_and_the_consumer_moves_on()
    {
        var ct = TestContext.Current.CancellationToken;
        // A data section (0x00 0x53 0x75) announcing 16 bytes of binary and carrying 2: a decoding error, not a raw body.
        byte[] broken = [0x00, 0x53, 0x75, 0xb0, 0x00, 0x00, 0x00, 0x10, 0x01, 0x02];
        var (system, stream) = await CreateStreamAsync("hosting-undecodable", ct);
        await using var _ = system;
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
