using System.Text;
using Streams.Client.Tests.Producers;
using Streams.Testing;

namespace Streams.Client.Tests.Consumers;

/// <summary>
/// Entries that are not AMQP 1.0 (written by a raw producer, as rstream's binary codec does) read through the client
/// API from the real broker: both the pull (<see cref="Consumer.ReadAllAsync"/>) and the push (<see cref="ConsumerOptions.Handler"/>) paths.
/// </summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class RawEntryBrokerTests(BrokerFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A data section announcing 16 bytes and carrying 2: corrupt AMQP, never to be taken for raw bytes.</summary>
    private static readonly byte[] CorruptAmqp = [0x00, 0x53, 0x75, 0xb0, 0x00, 0x00, 0x00, 0x10, 0x01, 0x02];

    private static readonly byte[] Binary = [0xff, 0x00, 0xfe];

    /// <summary>What the test writes, in offset order; null where the entry is corrupt AMQP.</summary>
    private static readonly (EntryFormat Format, string? Body)[] Expected =
    [
        (EntryFormat.Raw, "Hello, World!"),
        (EntryFormat.Raw, ""),
        (EntryFormat.Raw, Convert.ToHexString(Binary)),
        (EntryFormat.Amqp, "amqp body"),
        (EntryFormat.Amqp, null),
        (EntryFormat.Raw, "sub-entry 1"),
        (EntryFormat.Raw, "sub-entry 2"),
        (EntryFormat.Raw, "last"),
    ];

    private static async Task PublishAsync(BrokerStream s)
    {
        await using var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream), Ct);

        // The raw producer path: the bytes are the entry, with no AMQP sections (rstream's send(b"Hello, World!")).
        await producer.SendAsync(Encoding.UTF8.GetBytes("Hello, World!"), Ct);
        await producer.SendAsync(ReadOnlyMemory<byte>.Empty, Ct);
        await producer.SendAsync(Binary, Ct);
        await producer.SendAsync(new Message(Encoding.UTF8.GetBytes("amqp body")) { Properties = new MessageProperties { MessageId = "m-1" } }, Ct);
        await producer.SendAsync(CorruptAmqp, Ct);
        await producer.SendSubEntryAsync([Encoding.UTF8.GetBytes("sub-entry 1"), Encoding.UTF8.GetBytes("sub-entry 2")], CompressionType.Gzip, Ct);
        await producer.SendAsync(Encoding.UTF8.GetBytes("last"), Ct);
    }

    private static string Text(int offset, Message message) =>
        offset == 2 ? Convert.ToHexString(message.Body.Span) : Encoding.UTF8.GetString(message.Body.Span);

    private static void AssertDelivery(Delivery delivery, List<(EntryFormat, string?)> seen)
    {
        var offset = (int)delivery.Offset;
        var (format, body) = Expected[offset];
        Assert.Equal(format, delivery.Format);
        if (body is null)
        {
            // Starts like AMQP, does not decode: an exception, or false without one; the bytes stay readable.
            Assert.Throws<AmqpDecodeException>(() => delivery.DecodeMessage());
            Assert.False(delivery.TryDecodeMessage(out var none));
            Assert.Null(none);
            Assert.Equal(CorruptAmqp, delivery.Body.ToArray());
            seen.Add((delivery.Format, null));
            return;
        }

        var message = delivery.DecodeMessage();
        Assert.True(delivery.TryDecodeMessage(out var tried));
        Assert.Equal(message.Format, tried.Format);
        Assert.Equal(format, message.Format);
        Assert.Equal(MessageBodyKind.Data, message.BodyKind);
        if (format == EntryFormat.Raw)
        {
            Assert.Equal(delivery.Body.ToArray(), message.Body.ToArray());
            Assert.Null(message.Properties);
        }
        else
        {
            Assert.Equal("m-1", message.Properties?.MessageId);
        }

        seen.Add((message.Format, Text(offset, message)));
    }

    [Fact]
    public async Task Raw_entries_are_read_as_their_bytes_through_ReadAllAsync_and_DecodeMessage()
    {
        await using var s = await BrokerStream.CreateAsync(fixture, "raw-pull", Ct);
        await PublishAsync(s);

        await using var consumer = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.First }, Ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(30));
        var seen = new List<(EntryFormat, string?)>();
        await foreach (var delivery in consumer.ReadAllAsync(cts.Token))
        {
            AssertDelivery(delivery, seen);
            if (seen.Count == Expected.Length)
            {
                break;
            }
        }

        Assert.Equal(Expected, seen);
    }

    [Fact]
    public async Task Raw_entries_are_read_as_their_bytes_by_a_push_handler()
    {
        await using var s = await BrokerStream.CreateAsync(fixture, "raw-push", Ct);
        await PublishAsync(s);

        var seen = new List<(EntryFormat, string?)>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var consumer = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream)
        {
            Offset = OffsetSpecification.First,
            Handler = (delivery, _) =>
            {
                try
                {
                    AssertDelivery(delivery, seen);
                    if (seen.Count == Expected.Length)
                    {
                        done.TrySetResult();
                    }
                }
                catch (Exception ex)
                {
                    done.TrySetException(ex);
                }

                return ValueTask.CompletedTask;
            },
        }, Ct);
        await done.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(Expected, seen);
    }
}
