using System.Text;
using RabbitMQ.Client;
using Streams.Client.Tests.Producers;
using Streams.Testing;

namespace Streams.Client.Tests.Interop;

/// <summary>
/// Messages published over AMQP 0.9.1 (RabbitMQ.Client, publisher confirms) into a stream are stored as AMQP 1.0
/// (protocol.md §8) and our <see cref="Consumer"/> must decode them with everything the publisher set.
/// </summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class Amqp091ToStreamTests(BrokerFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static (BasicProperties, byte[]) Published(int i) => (
        new BasicProperties
        {
            MessageId = $"msg-{i}",
            CorrelationId = $"corr-{i}",
            ContentType = "text/plain",
            Headers = new Dictionary<string, object?>
            {
                ["int"] = i,
                ["negative-int"] = -1_000_000 - i,
                ["long"] = 5_000_000_000L + i,
                ["bool-true"] = true,
                ["bool-flag"] = i % 2 == 0,
                ["string"] = $"tenant-{i}",
                ["unicode"] = "Grüße, 世界",
            },
        },
        Encoding.UTF8.GetBytes($"hello {i} from 0.9.1"));

    [Fact]
    public async Task Body_ids_content_type_and_typed_headers_survive_our_consumer()
    {
        await using var s = await BrokerStream.CreateAsync(fixture, "interop-in", Ct);
        const int N = 10;
        await Amqp091.PublishAsync(fixture, s.Stream, Enumerable.Range(0, N).Select(Published), Ct);

        await using var consumer = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.First }, Ct);
        var messages = await ReadAsync(consumer, N);

        for (int i = 0; i < N; i++)
        {
            var (offset, m) = messages[i];
            Assert.Equal((ulong)i, offset);
            Assert.Equal(MessageBodyKind.Data, m.BodyKind);
            Assert.Equal($"hello {i} from 0.9.1", Encoding.UTF8.GetString(m.Body.Span));

            Assert.NotNull(m.Properties);
            Assert.Equal($"msg-{i}", Assert.IsType<string>(m.Properties.MessageId));
            Assert.Equal($"corr-{i}", Assert.IsType<string>(m.Properties.CorrelationId));
            Assert.Equal("text/plain", m.Properties.ContentType);

            var app = m.ApplicationProperties;
            Assert.NotNull(app);
            Assert.Equal(i, Assert.IsType<int>(app["int"]));
            Assert.Equal(-1_000_000 - i, Assert.IsType<int>(app["negative-int"]));
            Assert.Equal(5_000_000_000L + i, Assert.IsType<long>(app["long"]));
            Assert.True(Assert.IsType<bool>(app["bool-true"]));
            Assert.Equal(i % 2 == 0, Assert.IsType<bool>(app["bool-flag"]));
            Assert.Equal($"tenant-{i}", Assert.IsType<string>(app["string"]));
            Assert.Equal("Grüße, 世界", Assert.IsType<string>(app["unicode"]));
        }
    }

    [Fact]
    public async Task Many_pipelined_091_publishes_are_read_in_order_with_contiguous_offsets()
    {
        await using var s = await BrokerStream.CreateAsync(fixture, "interop-in-many", Ct);
        const int N = 1_000;
        await Amqp091.PublishPipelinedAsync(fixture, s.Stream, Enumerable.Range(0, N).Select(Published).ToList(), Ct);

        await using var consumer = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.First }, Ct);
        var messages = await ReadAsync(consumer, N);

        for (int i = 0; i < N; i++)
        {
            var (offset, m) = messages[i];
            Assert.Equal((ulong)i, offset);
            Assert.Equal($"hello {i} from 0.9.1", Encoding.UTF8.GetString(m.Body.Span));
            Assert.Equal($"msg-{i}", m.Properties?.MessageId);
            Assert.Equal(i, m.ApplicationProperties?["int"]);
        }
    }

    [Fact]
    public async Task X_headers_become_message_annotations_and_other_basic_properties_are_kept()
    {
        await using var s = await BrokerStream.CreateAsync(fixture, "interop-in-x", Ct);
        var properties = new BasicProperties
        {
            MessageId = "only",
            DeliveryMode = DeliveryModes.Persistent,
            AppId = "billing",
            Timestamp = new AmqpTimestamp(1_763_700_000),
            Headers = new Dictionary<string, object?> { ["x-origin"] = "eu-west", ["plain"] = "yes" },
        };
        await Amqp091.PublishAsync(fixture, s.Stream, [(properties, "x"u8.ToArray())], Ct);

        await using var consumer = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.First }, Ct);
        var (_, m) = Assert.Single(await ReadAsync(consumer, 1));

        Assert.Equal("x", Encoding.UTF8.GetString(m.Body.Span));
        Assert.Equal("only", m.Properties?.MessageId);
        Assert.Equal("yes", m.ApplicationProperties?["plain"]);
        Assert.False(m.ApplicationProperties?.ContainsKey("x-origin") ?? false);
        Assert.NotNull(m.MessageAnnotations);
        Assert.Equal("eu-west", m.MessageAnnotations["x-origin"]);
        Assert.True(m.Header?.Durable);
        Assert.Equal("billing", m.Properties?.GroupId);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_763_700_000), m.Properties?.CreationTime);
    }

    [Fact]
    public async Task Other_091_field_types_properties_and_body_sizes_decode_into_the_matching_types()
    {
        await using var s = await BrokerStream.CreateAsync(fixture, "interop-in-types", Ct);
        var typed = new BasicProperties
        {
            MessageId = "urn:uuid:3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            CorrelationId = "42",
            Priority = 7,
            Expiration = "60000",
            Type = "order-created",
            UserId = fixture.Endpoint.UserName,
            ReplyTo = "reply-queue",
            ContentEncoding = "gzip",
            Headers = new Dictionary<string, object?>
            {
                ["byte"] = (byte)7,
                ["sbyte"] = (sbyte)-7,
                ["short"] = (short)-300,
                ["ushort"] = (ushort)300,
                ["uint"] = 4_000_000_000u,
                ["float"] = 1.5f,
                ["double"] = 2.25,
                ["timestamp"] = new AmqpTimestamp(1_763_700_000),
                ["binary"] = new BinaryTableValue([4, 5]),
                ["null"] = null,
            },
        };
        var large = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();
        await Amqp091.PublishAsync(fixture, s.Stream, [(typed, Array.Empty<byte>()), (new BasicProperties(), large)], Ct);

        await using var consumer = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.First }, Ct);
        var messages = await ReadAsync(consumer, 2);

        var m = messages[0].Message;
        Assert.Equal(MessageBodyKind.Data, m.BodyKind);
        Assert.Equal(0, m.Body.Length);
        Assert.NotNull(m.Properties);

        // The broker turns a urn:uuid: message id into an AMQP uuid; other strings stay strings.
        Assert.Equal(Guid.Parse("3f2504e0-4f89-11d3-9a0c-0305e82c3301"), Assert.IsType<Guid>(m.Properties.MessageId));
        Assert.Equal("42", Assert.IsType<string>(m.Properties.CorrelationId));
        Assert.Equal(fixture.Endpoint.UserName, Encoding.UTF8.GetString(m.Properties.UserId!));
        Assert.Equal("reply-queue", m.Properties.ReplyTo);
        Assert.Equal("gzip", m.Properties.ContentEncoding);
        Assert.NotNull(m.Header);
        Assert.Equal(7, m.Header.Priority);
        Assert.Equal(60_000u, m.Header.Ttl);
        Assert.Equal("order-created", m.MessageAnnotations?["x-basic-type"]);

        var app = m.ApplicationProperties;
        Assert.NotNull(app);
        Assert.Equal((byte)7, Assert.IsType<byte>(app["byte"]));
        Assert.Equal((sbyte)-7, Assert.IsType<sbyte>(app["sbyte"]));
        Assert.Equal((short)-300, Assert.IsType<short>(app["short"]));
        Assert.Equal((ushort)300, Assert.IsType<ushort>(app["ushort"]));
        Assert.Equal(4_000_000_000u, Assert.IsType<uint>(app["uint"]));
        Assert.Equal(1.5f, Assert.IsType<float>(app["float"]));
        Assert.Equal(2.25, Assert.IsType<double>(app["double"]));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_763_700_000), Assert.IsType<DateTimeOffset>(app["timestamp"]));
        Assert.Equal(new byte[] { 4, 5 }, Assert.IsType<byte[]>(app["binary"]));
        Assert.True(app.ContainsKey("null"));
        Assert.Null(app["null"]);

        // A body over 255 bytes is stored as vbin32 and must come back intact; no properties means no properties section.
        var big = messages[1].Message;
        Assert.Equal(MessageBodyKind.Data, big.BodyKind);
        Assert.Equal(large, big.Body.ToArray());
        Assert.Null(big.Properties?.MessageId);
    }

    /// <summary>Reads <paramref name="count"/> deliveries, decoding each (the body is copied by DecodeMessage).</summary>
    private static async Task<List<(ulong Offset, Message Message)>> ReadAsync(Consumer consumer, int count, int seconds = 20)
    {
        var list = new List<(ulong, Message)>();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(seconds));
        try
        {
            await foreach (var d in consumer.ReadAllAsync(cts.Token))
            {
                list.Add((d.Offset, d.DecodeMessage()));
                if (list.Count == count)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested && !Ct.IsCancellationRequested)
        {
            Assert.Fail($"Only {list.Count} of {count} messages arrived within {seconds} s.");
        }

        return list;
    }
}
