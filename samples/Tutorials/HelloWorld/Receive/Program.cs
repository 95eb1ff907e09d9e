// RabbitMQ stream tutorial 1, "Hello World!" — the receiver.
// Declares the stream (exists-ok), consumes it from the first message and prints each one until Ctrl+C
// (or, with `--count N`, until N messages were printed).
// Usage: dotnet run -- [--count N] [--stream NAME]   (default stream: hello-stream)
using System.Text;
using Streams.Client;

var count = int.MaxValue;
var stream = "hello-stream";
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--count": count = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--stream": stream = args[i + 1]; break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

var uri = Environment.GetEnvironmentVariable("RABBITMQ_STREAM_URI") ?? "rabbitmq-stream://guest:guest@localhost:5552/%2f";
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };

await using var system = await StreamSystem.ConnectAsync(StreamSystemOptions.FromUri(uri));
await system.CreateStreamAsync(stream, new StreamSpec { MaxLengthBytes = 5_000_000_000 });
await using var consumer = await system.CreateConsumerAsync(new ConsumerOptions(stream) { Offset = OffsetSpecification.First });

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

return 0;
