// RabbitMQ stream tutorial 1, "Hello World!" — the sender.
// Declares the stream (exists-ok), publishes one message and exits once the broker confirmed it.
// Usage: dotnet run -- [--stream NAME]   (default stream: hello-stream)
using System.Text;
using Streams.Client;

var stream = args is ["--stream", var name] ? name : "hello-stream";

var uri = Environment.GetEnvironmentVariable("RABBITMQ_STREAM_URI") ?? "rabbitmq-stream://guest:guest@localhost:5552/%2f";
await using var system = await StreamSystem.ConnectAsync(StreamSystemOptions.FromUri(uri));
await system.CreateStreamAsync(stream, new StreamSpec { MaxLengthBytes = 5_000_000_000 });

await using var producer = await system.CreateProducerAsync(new ProducerOptions(stream));
await producer.SendAsync(new Message(Encoding.UTF8.GetBytes("Hello, World!")));
Console.WriteLine(" [x] Sent 'Hello, World!'");
