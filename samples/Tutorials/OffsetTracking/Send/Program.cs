// RabbitMQ stream tutorial 2, "Offset Tracking" — the sender.
// Declares the stream (exists-ok), publishes 100 messages (the last one with the body "marker"),
// waits until the broker confirmed every one of them and exits.
// Usage: dotnet run -- [--stream NAME]   (default stream: stream-offset-tracking-dotnet)
using System.Text;
using Streams.Client;

var stream = args is ["--stream", var name] ? name : "stream-offset-tracking-dotnet";
var uri = Environment.GetEnvironmentVariable("RABBITMQ_STREAM_URI") ?? "rabbitmq-stream://guest:guest@localhost:5552/%2f";

await using var system = await StreamSystem.ConnectAsync(StreamSystemOptions.FromUri(uri));
await system.CreateStreamAsync(stream, new StreamSpec { MaxLengthBytes = 2_000_000_000 });
await using var producer = await system.CreateProducerAsync(new ProducerOptions(stream));

const int messageCount = 100;
var confirmed = 0;
var failed = 0;
var allConfirmed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
void OnConfirm(Confirmation confirmation)
{
    if (!confirmation.IsConfirmed)
    {
        Interlocked.Increment(ref failed);
    }

    if (Interlocked.Increment(ref confirmed) == messageCount)
    {
        allConfirmed.TrySetResult();
    }
}

Console.WriteLine($"Publishing {messageCount} messages...");
for (var i = 0; i < messageCount; i++)
{
    var body = i == messageCount - 1 ? "marker" : "hello";
    await producer.Send(new Message(Encoding.UTF8.GetBytes(body)), OnConfirm);
}

await allConfirmed.Task;
if (failed > 0)
{
    Console.Error.WriteLine($"{failed} message(s) were not confirmed.");
    return 1;
}

Console.WriteLine("Messages confirmed: true.");
return 0;
