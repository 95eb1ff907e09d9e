// RabbitMQ stream tutorial 1, "Hello World!" — the receiver.
// Declares the stream (exists-ok), consumes it from the first message and prints each one until Ctrl+C
// (or, with `--count N`, until N messages were printed).
// Usage: dotnet run -- [--count N] [--stream NAME]   (default stream: hello-stream)
// It reads what any tutorial's sender wrote: this one's Send and the Java/.NET clients write AMQP 1.0 messages, the
// Python tutorial's send.py (rstream) writes "Hello, World!" as raw bytes. DecodeMessage handles both: an entry that
// is not AMQP 1.0 (it does not start with an AMQP section descriptor) comes back with its bytes as the body.
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
        var message = delivery.DecodeMessage(); // message.Format: EntryFormat.Amqp, or EntryFormat.Raw for raw bytes
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
