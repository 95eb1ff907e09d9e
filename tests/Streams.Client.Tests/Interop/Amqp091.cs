using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Streams.Testing;

namespace Streams.Client.Tests.Interop;

/// <summary>What an AMQP 0.9.1 consumer received: the body (copied) and the basic properties it saw.</summary>
internal sealed record Amqp091Delivery(
    byte[] Body,
    string? MessageId,
    string? CorrelationId,
    string? ContentType,
    string? AppId,
    DeliveryModes DeliveryMode,
    bool IsDeliveryModePresent,
    long? TimestampSeconds,
    byte Priority,
    string? Expiration,
    string? ReplyTo,
    string? UserId,
    string? ContentEncoding,
    string? Type,
    IReadOnlyDictionary<string, object?> Headers)
{
    public object? Header(string key) => Headers.TryGetValue(key, out var value) ? value : null;
}

/// <summary>
/// AMQP 0.9.1 side of the interop tests, through RabbitMQ.Client: the broker's 0.9.1 port is the stream broker's host
/// with port <c>RABBITMQ_AMQP_PORT</c> (default 5672) and the same credentials and virtual host.
/// </summary>
internal static class Amqp091
{
    public static ConnectionFactory Factory(BrokerFixture fixture)
    {
        var port = Environment.GetEnvironmentVariable("RABBITMQ_AMQP_PORT");
        return new ConnectionFactory
        {
            HostName = fixture.Endpoint.Host,
            Port = string.IsNullOrWhiteSpace(port) ? 5672 : int.Parse(port, System.Globalization.CultureInfo.InvariantCulture),
            UserName = fixture.Endpoint.UserName,
            Password = fixture.Endpoint.Password,
            VirtualHost = fixture.Endpoint.VirtualHost,
            ClientProvidedName = "streams-interop-tests",
        };
    }

    /// <summary>
    /// basic.consume on the stream from <c>x-stream-offset = first</c> with a prefetch and manual acks, until
    /// <paramref name="expected"/> deliveries arrived (fails after <paramref name="seconds"/>).
    /// </summary>
    public static async Task<List<Amqp091Delivery>> ConsumeAsync(BrokerFixture fixture, string stream, int expected, CancellationToken ct, int seconds = 30)
    {
        await using var connection = await Factory(fixture).CreateConnectionAsync(ct);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: ct);
        await channel.BasicQosAsync(prefetchSize: 0, prefetchCount: 100, global: false, ct);

        var received = new List<Amqp091Delivery>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        channel.ChannelShutdownAsync += (_, args) =>
        {
            done.TrySetException(new Xunit.Sdk.XunitException(
                $"The AMQP 0.9.1 channel closed after {received.Count} of {expected} deliveries: {args.ReplyCode} {args.ReplyText}"));
            return Task.CompletedTask;
        };
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, d) =>
        {
            var p = d.BasicProperties;
            var delivery = new Amqp091Delivery(
                d.Body.ToArray(),
                p.MessageId,
                p.CorrelationId,
                p.ContentType,
                p.AppId,
                p.DeliveryMode,
                p.IsDeliveryModePresent(),
                p.IsTimestampPresent() ? p.Timestamp.UnixTime : null,
                p.Priority,
                p.Expiration,
                p.ReplyTo,
                p.UserId,
                p.ContentEncoding,
                p.Type,
                p.Headers is null ? new Dictionary<string, object?>() : new Dictionary<string, object?>(p.Headers));
            lock (received)
            {
                received.Add(delivery);
                if (received.Count == expected)
                {
                    done.TrySetResult();
                }
            }

            await channel.BasicAckAsync(d.DeliveryTag, multiple: false, ct);
        };

        var tag = await channel.BasicConsumeAsync(stream, autoAck: false, consumerTag: string.Empty, noLocal: false, exclusive: false,
            arguments: new Dictionary<string, object?> { ["x-stream-offset"] = "first" }, consumer, ct);
        try
        {
            await done.Task.WaitAsync(TimeSpan.FromSeconds(seconds), ct);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Only {received.Count} of {expected} messages reached the AMQP 0.9.1 consumer within {seconds} s.");
        }

        if (channel.IsOpen)
        {
            await channel.BasicCancelAsync(tag, noWait: false, ct);
        }

        lock (received)
        {
            return [.. received];
        }
    }

    /// <summary>Publishes to the stream (default exchange, routing key = stream) with publisher confirms; each call awaits its confirm.</summary>
    public static async Task PublishAsync(BrokerFixture fixture, string stream, IEnumerable<(BasicProperties Properties, byte[] Body)> messages, CancellationToken ct)
    {
        await using var connection = await Factory(fixture).CreateConnectionAsync(ct);
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);
        foreach (var (properties, body) in messages)
        {
            // With confirmation tracking this completes on the broker's ack and throws on a nack or return.
            await channel.BasicPublishAsync(string.Empty, stream, mandatory: true, properties, body, ct);
        }
    }

    /// <summary>
    /// Publishes with publisher confirms, keeping up to <paramref name="window"/> publishes in flight, so the broker
    /// writes many messages per chunk; completes when all are confirmed.
    /// </summary>
    public static async Task PublishPipelinedAsync(BrokerFixture fixture, string stream, IReadOnlyList<(BasicProperties Properties, byte[] Body)> messages, CancellationToken ct, int window = 100)
    {
        await using var connection = await Factory(fixture).CreateConnectionAsync(ct);
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);
        for (int start = 0; start < messages.Count; start += window)
        {
            var inFlight = new List<Task>(window);
            for (int i = start; i < Math.Min(start + window, messages.Count); i++)
            {
                inFlight.Add(channel.BasicPublishAsync(string.Empty, stream, mandatory: true, messages[i].Properties, messages[i].Body, ct).AsTask());
            }

            await Task.WhenAll(inFlight);
        }
    }

    /// <summary>A 0.9.1 longstr header value as text (RabbitMQ.Client surfaces longstr as byte[]).</summary>
    public static string? Text(object? value) => value switch
    {
        null => null,
        byte[] bytes => System.Text.Encoding.UTF8.GetString(bytes),
        string s => s,
        _ => throw new Xunit.Sdk.XunitException($"Expected a string header, got {value.GetType().Name} ({value})."),
    };
}
