// RabbitMQ stream tutorial 1, "Hello World!" — the receiver.
// Declares the stream (exists-ok), consumes it from the first message and prints each one until Ctrl+C
// (or, with `--count N`, until N messages were printed).
using System.Text;
using Streams.Client;

var count = args is ["--count", var n] ? int.Parse(n, System.Globalization.CultureInfo.InvariantCulture) : int.MaxValue;
var uri = Environment.GetEnvironmentVariable("RABBITMQ_STREAM_URI") ?? "rabbitmq-stream://guest:guest@localhost:5552/%2f";
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };

await using var system = await StreamSystem.ConnectAsync(StreamSystemOptions.FromUri(uri));
await system.CreateStreamAsync("hello-stream", new StreamSpec { MaxLengthBytes = 5_000_000_000 });
await using var consumer = await system.CreateConsumerAsync(new ConsumerOptions("hello-stream") { Offset = OffsetSpecification.First });

Console.WriteLine(" [*] Waiting for messages. To exit press CTRL+C");
var printed = 0;
try
{
    await foreach (var delivery in consumer.ReadAllAsync(stop.Token))
    {
        var message = delivery.DecodeMessage();
        Console.WriteLine($" [x] Received message: {Encoding.UTF8.GetString(message.Body.Span)} (offset {delivery.Offset})");
        if (++printed >= count)
        {
            break;
        }
    }
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
}
