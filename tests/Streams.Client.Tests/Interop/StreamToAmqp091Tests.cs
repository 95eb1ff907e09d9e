using System.Text;
using Streams.Client.Tests.Producers;
using Streams.Testing;

namespace Streams.Client.Tests.Interop;

/// <summary>
/// AMQP 1.0 messages published with our <see cref="Producer"/> and read over AMQP 0.9.1 (RabbitMQ.Client, basic.consume
/// with <c>x-stream-offset</c>): the broker converts them (protocol.md §8) and nothing we set may be lost or retyped.
/// </summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class StreamToAmqp091Tests(BrokerFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Message Typed(int i) => new(Encoding.UTF8.GetBytes($"{{\"order\":{i}}}"))
    {
        Properties = new MessageProperties
        {
            MessageId = $"msg-{i}",
            CorrelationId = $"corr-{i}",
            ContentType = "application/json",
        },
        ApplicationProperties = new Dictionary<string, object?>
        {
            ["int"] = i,
            ["negative-int"] = -1_000_000 - i,
            ["long"] = 5_000_000_000L + i,
            ["bool-true"] = true,
            ["bool-flag"] = i % 2 == 0,
            ["string"] = $"tenant-{i}",
            ["unicode"] = "Grüße, 世界",
        },
    };

    [Fact]
    public async Task Body_ids_content_type_and_typed_application_properties_survive_an_amqp091_consumer()
    {
        await using var s = await BrokerStream.CreateAsync(fixture, "interop-out", Ct);
        const int N = 10;
        await using (var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream), Ct))
        {
            for (int i = 0; i < N; i++)
            {
                await producer.SendAsync(Typed(i), Ct);
            }
        }

        var received = await Amqp091.ConsumeAsync(fixture, s.Stream, N, Ct);

        Assert.Equal(N, received.Count);
        for (int i = 0; i < N; i++)
        {
            var d = received[i];
            Assert.Equal($"{{\"order\":{i}}}", Encoding.UTF8.GetString(d.Body));
            Assert.Equal($"msg-{i}", d.MessageId);
            Assert.Equal($"corr-{i}", d.CorrelationId);
            Assert.Equal("application/json", d.ContentType);

            Assert.Equal(i, Assert.IsType<int>(d.Header("int")));
            Assert.Equal(-1_000_000 - i, Assert.IsType<int>(d.Header("negative-int")));
            Assert.Equal(5_000_000_000L + i, Assert.IsType<long>(d.Header("long")));
            Assert.True(Assert.IsType<bool>(d.Header("bool-true")));
            Assert.Equal(i % 2 == 0, Assert.IsType<bool>(d.Header("bool-flag")));
            Assert.Equal($"tenant-{i}", Amqp091.Text(d.Header("string")));
            Assert.Equal("Grüße, 世界", Amqp091.Text(d.Header("unicode")));

            // The broker adds the stream offset of each delivery.
            Assert.Equal((long)i, Convert.ToInt64(d.Header("x-stream-offset"), System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task Non_string_message_and_correlation_ids_are_mapped_as_the_broker_documents()
    {
        await using var s = await BrokerStream.CreateAsync(fixture, "interop-ids", Ct);
        var uuid = Guid.Parse("3f2504e0-4f89-11d3-9a0c-0305e82c3301");
        var binaryId = new byte[] { 0xde, 0xad, 0xbe, 0xef };
        var messages = new[]
        {
            new Message("ulong"u8.ToArray()) { Properties = new MessageProperties { MessageId = 42UL, CorrelationId = 18_000_000_000_000_000_000UL } },
            new Message("uuid"u8.ToArray()) { Properties = new MessageProperties { MessageId = uuid, CorrelationId = uuid } },
            new Message("binary"u8.ToArray()) { Properties = new MessageProperties { MessageId = binaryId, CorrelationId = binaryId } },
        };
        await using (var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream), Ct))
        {
            await producer.SendBatchAsync(messages, Ct);
        }

        var received = await Amqp091.ConsumeAsync(fixture, s.Stream, messages.Length, Ct);

        // ulong → decimal string.
        Assert.Equal("ulong", Encoding.UTF8.GetString(received[0].Body));
        Assert.Equal("42", received[0].MessageId);
        Assert.Equal("18000000000000000000", received[0].CorrelationId);

        // uuid → urn:uuid:… string.
        Assert.Equal("uuid", Encoding.UTF8.GetString(received[1].Body));
        Assert.Equal("urn:uuid:3f2504e0-4f89-11d3-9a0c-0305e82c3301", received[1].MessageId);
        Assert.Equal("urn:uuid:3f2504e0-4f89-11d3-9a0c-0305e82c3301", received[1].CorrelationId);

        // binary → no message-id property; the value travels in the x-message-id / x-correlation-id headers.
        Assert.Equal("binary", Encoding.UTF8.GetString(received[2].Body));
        Assert.Null(received[2].MessageId);
        Assert.Null(received[2].CorrelationId);
        // (a 0.9.1 byte-array field, type 'x', which RabbitMQ.Client surfaces as BinaryTableValue).
        Assert.Equal(binaryId, Assert.IsType<RabbitMQ.Client.BinaryTableValue>(received[2].Header("x-message-id")).Bytes);
        Assert.Equal(binaryId, Assert.IsType<RabbitMQ.Client.BinaryTableValue>(received[2].Header("x-correlation-id")).Bytes);
    }

    [Fact]
    public async Task Header_creation_time_group_id_and_x_annotations_are_mapped()
    {
        await using var s = await BrokerStream.CreateAsync(fixture, "interop-hdr", Ct);
        var created = DateTimeOffset.FromUnixTimeSeconds(1_763_700_000);
        var message = new Message("annotated"u8.ToArray())
        {
            Header = new MessageHeader { Durable = true },
            Properties = new MessageProperties { MessageId = "m-1", CreationTime = created, GroupId = "group-a" },
            MessageAnnotations = new Dictionary<string, object?> { ["x-origin"] = "eu-west" },
        };
        await using (var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream), Ct))
        {
            await producer.SendAsync(message, Ct);
        }

        var d = Assert.Single(await Amqp091.ConsumeAsync(fixture, s.Stream, 1, Ct));
        Assert.Equal("annotated", Encoding.UTF8.GetString(d.Body));
        Assert.Equal("m-1", d.MessageId);
        Assert.Equal(DeliveryModesPersistent, (int)d.DeliveryMode);
        Assert.Equal(created.ToUnixTimeSeconds(), d.TimestampSeconds);
        Assert.Equal("group-a", d.AppId);
        Assert.Equal("eu-west", Amqp091.Text(d.Header("x-origin")));
    }

    [Fact]
    public async Task Many_buffered_messages_and_an_uncompressed_sub_entry_batch_arrive_one_by_one_in_order()
    {
        await using var s = await BrokerStream.CreateAsync(fixture, "interop-many", Ct);
        const int Buffered = 1_000;
        const int SubEntry = 50;
        await using (var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream), Ct))
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            int confirmed = 0;
            int failed = 0;
            for (int i = 0; i < Buffered; i++)
            {
                await producer.Send(Typed(i), c =>
                {
                    if (!c.IsConfirmed)
                    {
                        Interlocked.Increment(ref failed);
                    }

                    if (Interlocked.Increment(ref confirmed) == Buffered)
                    {
                        done.TrySetResult();
                    }
                }, Ct);
            }

            await done.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
            Assert.Equal(0, failed);
            await producer.SendSubEntryAsync(
                Enumerable.Range(Buffered, SubEntry).Select(Typed).ToList(), CompressionType.None, Ct);
        }

        var received = await Amqp091.ConsumeAsync(fixture, s.Stream, Buffered + SubEntry, Ct);
        for (int i = 0; i < Buffered + SubEntry; i++)
        {
            Assert.Equal($"{{\"order\":{i}}}", Encoding.UTF8.GetString(received[i].Body));
            Assert.Equal($"msg-{i}", received[i].MessageId);
            Assert.Equal(i, Assert.IsType<int>(received[i].Header("int")));
        }
    }

    [Fact]
    public async Task Other_simple_application_property_types_and_header_fields_are_kept()
    {
        // Not covered: uuid and char application properties. RabbitMQ 4.0.5 cannot convert them for a 0.9.1 consumer
        // (mc_amqpl:to_091 function_clause; the channel is closed with 541 INTERNAL_ERROR), so no client can send them there.
        await using var s = await BrokerStream.CreateAsync(fixture, "interop-types", Ct);
        var message = new Message("typed"u8.ToArray())
        {
            Header = new MessageHeader { Priority = 7, Ttl = 60_000 },
            Properties = new MessageProperties { ReplyTo = "reply-queue", UserId = Encoding.UTF8.GetBytes(fixture.Endpoint.UserName), ContentEncoding = "gzip" },
            ApplicationProperties = new Dictionary<string, object?>
            {
                ["byte"] = (byte)7,
                ["sbyte"] = (sbyte)-7,
                ["short"] = (short)-300,
                ["ushort"] = (ushort)300,
                ["uint"] = 4_000_000_000u,
                ["float"] = 1.5f,
                ["double"] = 2.25,
                ["timestamp"] = DateTimeOffset.FromUnixTimeSeconds(1_763_700_000),
                ["binary"] = new byte[] { 4, 5 },
                ["null"] = null,
            },
        };
        await using (var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream), Ct))
        {
            await producer.SendAsync(message, Ct);
        }

        var d = Assert.Single(await Amqp091.ConsumeAsync(fixture, s.Stream, 1, Ct));
        Assert.Equal("typed", Encoding.UTF8.GetString(d.Body));
        Assert.Equal(7, d.Priority);
        Assert.Equal("60000", d.Expiration);
        Assert.Equal("reply-queue", d.ReplyTo);
        Assert.Equal(fixture.Endpoint.UserName, d.UserId);
        Assert.Equal("gzip", d.ContentEncoding);

        Assert.Equal((byte)7, Assert.IsType<byte>(d.Header("byte")));
        Assert.Equal((sbyte)-7, Assert.IsType<sbyte>(d.Header("sbyte")));
        Assert.Equal((short)-300, Assert.IsType<short>(d.Header("short")));
        Assert.Equal((ushort)300, Assert.IsType<ushort>(d.Header("ushort")));
        Assert.Equal(4_000_000_000u, Assert.IsType<uint>(d.Header("uint")));
        Assert.Equal(1.5f, Assert.IsType<float>(d.Header("float")));
        Assert.Equal(2.25, Assert.IsType<double>(d.Header("double")));
        Assert.Equal(1_763_700_000, Assert.IsType<RabbitMQ.Client.AmqpTimestamp>(d.Header("timestamp")).UnixTime);
        Assert.Equal(new byte[] { 4, 5 }, Assert.IsType<byte[]>(d.Header("binary")));
        Assert.True(d.Headers.ContainsKey("null"));
        Assert.Null(d.Header("null"));
    }

    [Fact]
    public async Task Several_data_sections_are_concatenated_and_other_body_kinds_arrive_AMQP_encoded()
    {
        await using var s = await BrokerStream.CreateAsync(fixture, "interop-bodies", Ct);
        var messages = new[]
        {
            new Message { DataSections = [new byte[] { 1, 2 }, new byte[] { 3, 4, 5 }] },
            new Message { AmqpValue = "hello value" },
            new Message { AmqpSequence = [1, "two", true] },
        };
        await using (var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream), Ct))
        {
            await producer.SendBatchAsync(messages, Ct);
        }

        var received = await Amqp091.ConsumeAsync(fixture, s.Stream, messages.Length, Ct);

        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, received[0].Body);

        // Non-data bodies reach 0.9.1 as their AMQP 1.0 encoding (type amqp-1.0), which our codec reads back.
        Assert.Equal("amqp-1.0", received[1].Type);
        var value = Message.DecodeCopy(received[1].Body);
        Assert.Equal(MessageBodyKind.AmqpValue, value.BodyKind);
        Assert.Equal("hello value", value.AmqpValue);

        Assert.Equal("amqp-1.0", received[2].Type);
        var sequence = Message.DecodeCopy(received[2].Body);
        Assert.Equal(MessageBodyKind.AmqpSequence, sequence.BodyKind);
        Assert.Equal(new object?[] { 1, "two", true }, sequence.AmqpSequence);
    }

    private const int DeliveryModesPersistent = 2;
}
