// RabbitMQ stream tutorial 2, "Offset Tracking" — the receiver.
// Consumes the stream from the first message, or right after the offset it stored last time, stores the offset
// of the "marker" message when it reads it (so the next run starts after it), and exits printing the first and
// last offsets of the messages it handled.
// Usage: dotnet run -- [--stream NAME]   (default stream: stream-offset-tracking-dotnet)
// Messages may be AMQP 1.0 (this tutorial's Send, the Java/.NET clients) or raw bytes (a Python sender using rstream's
// binary codec): DecodeMessage returns the raw bytes as the body, so "marker" is found either way.
using System.Text;
using Streams.Client;

var stream = args is ["--stream", var name] ? name : "stream-offset-tracking-dotnet";
var uri = Environment.GetEnvironmentVariable("RABBITMQ_STREAM_URI") ?? "rabbitmq-stream://guest:guest@localhost:5552/%2f";
const string consumerName = "offset-tracking-tutorial";

await using var system = await StreamSystem.ConnectAsync(StreamSystemOptions.FromUri(uri));
await system.CreateStreamAsync(stream, new StreamSpec { MaxLengthBytes = 2_000_000_000 });

// Where to start: right after the stored offset of this consumer, or the beginning of the stream.
var stored = await system.QueryOffsetAsync(consumerName, stream);
var start = stored is { } offset ? OffsetSpecification.Offset(offset + 1) : OffsetSpecification.First;

await using var consumer = await system.CreateConsumerAsync(new ConsumerOptions(stream) { Name = consumerName, Offset = start });
Console.WriteLine($"Started consuming from {start}...");

ulong? firstOffset = null;
ulong lastOffset = 0;
var handled = 0;
await foreach (var delivery in consumer.ReadAllAsync())
{
    if (firstOffset is null)
    {
        firstOffset = delivery.Offset;
        Console.WriteLine("First message received.");
    }

    lastOffset = delivery.Offset;
    handled++;
    if (handled % 10 == 0)
    {
        await consumer.StoreOffsetAsync(delivery.Offset); // store from time to time...
    }

    if (Encoding.UTF8.GetString(delivery.DecodeMessage().Body.Span) == "marker")
    {
        await consumer.StoreOffsetAsync(delivery.Offset); // ...and at the marker, so the next run starts after it
        break;
    }
}

// Storing an offset is fire-and-forget: read it back to be sure the next run starts after the marker.
while (await consumer.QueryOffsetAsync() != lastOffset)
{
    await Task.Delay(50);
}

Console.WriteLine($"Done consuming, {handled} messages, first offset: {firstOffset}, last offset: {lastOffset}.");
