using System.Text;
using RabbitMQ.Client;
using Streams.Client.Tests.Producers;
using Streams.Testing;

namespace Streams.Client.Tests.Interop;

/// <summary>
/// Messages published over AMQP 0.9.1 (RabbitMQ.Client, publisher confirms) into a stream are stored as AMQP 1.0
/// (protocol.md §8) and our <see cref="Consumer"/> must decode them with everything the publisher set.
/// </summary>
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
