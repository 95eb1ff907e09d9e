using Streams.Client;
using Streams.Testing;

namespace Streams.Samples.Tests;

/// <summary>The two RabbitMQ stream tutorials, run as the processes a reader would start, each on its own stream.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class TutorialTests(BrokerFixture fixture)
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    private static string HelloSend => SampleProcess.SampleAssembly("samples/Tutorials/HelloWorld/Send", "HelloWorld.Send");
    private static string HelloReceive => SampleProcess.SampleAssembly("samples/Tutorials/HelloWorld/Receive", "HelloWorld.Receive");
    private static string OffsetSend => SampleProcess.SampleAssembly("samples/Tutorials/OffsetTracking/Send", "OffsetTracking.Send");
    private static string OffsetReceive => SampleProcess.SampleAssembly("samples/Tutorials/OffsetTracking/Receive", "OffsetTracking.Receive");

    [Fact]
    public async Task HelloWorld_send_then_receive_prints_the_message()
    {
        var stream = BrokerFixture.UniqueName("hello-stream");
        try
        {
            var (code, output) = await SampleProcess.RunAsync(HelloSend, "--stream", stream);
            Assert.True(code == 0, output);
            Assert.Contains(" [x] Sent 'Hello, World!'", output, StringComparison.Ordinal);

            (code, output) = await SampleProcess.RunAsync(HelloReceive, "--stream", stream, "--count", "1");
            Assert.True(code == 0, output);
            Assert.Contains(" [*] Waiting for messages. To exit press CTRL+C", output, StringComparison.Ordinal);
            Assert.Contains(" [x] Received message: Hello, World! (offset 0)", output, StringComparison.Ordinal);

            await using var system = await fixture.ConnectAsync();
            Assert.True(await system.StreamExistsAsync(stream, TestContext.Current.CancellationToken));
        }
        finally
        {
            await fixture.DeleteStreamsAsync(stream);
        }
    }

    [Fact]
    public async Task HelloWorld_receive_prints_the_raw_message_of_the_python_tutorial_and_an_AMQP_one()
    {
        var stream = BrokerFixture.UniqueName("hello-stream");
        try
        {
            // What the Python tutorial's send.py does with rstream: the same stream, "Hello, World!" as raw bytes.
            await using (var system = await fixture.ConnectAsync())
            {
                var ct = TestContext.Current.CancellationToken;
                await system.CreateStreamAsync(stream, new StreamSpec { MaxLengthBytes = 5_000_000_000 }, ct);
                await using var producer = await system.CreateProducerAsync(new ProducerOptions(stream), ct);
                await producer.SendAsync(System.Text.Encoding.UTF8.GetBytes("Hello, World!"), ct);
            }

            var (code, output) = await SampleProcess.RunAsync(HelloSend, "--stream", stream); // AMQP 1.0, offset 1
            Assert.True(code == 0, output);

            (code, output) = await SampleProcess.RunAsync(HelloReceive, "--stream", stream, "--count", "2");
            Assert.True(code == 0, output);
            Assert.Contains(" [x] Received message: Hello, World! (offset 0)", output, StringComparison.Ordinal);
            Assert.Contains(" [x] Received message: Hello, World! (offset 1)", output, StringComparison.Ordinal);
            Assert.DoesNotContain("Exception", output, StringComparison.Ordinal);
        }
        finally
        {
            await fixture.DeleteStreamsAsync(stream);
        }
    }

    [Fact]
    public async Task HelloWorld_receive_prints_each_message_until_ctrl_c()
    {
        var stream = BrokerFixture.UniqueName("hello-stream");
        try
        {
            await using var receive = SampleProcess.Start(HelloReceive, ["--stream", stream]);
            await receive.WaitForOutputAsync("Waiting for messages", HangGuard);
            for (var i = 0; i < 2; i++)
            {
                var (code, output) = await SampleProcess.RunAsync(HelloSend, "--stream", stream);
                Assert.True(code == 0, output);
            }

            await receive.WaitForOutputAsync("Hello, World! (offset 1)", HangGuard);
            Assert.Contains("Hello, World! (offset 0)", receive.Output, StringComparison.Ordinal);
            Assert.Null(receive.ExitCode); // still waiting for more

            await receive.InterruptAsync(HangGuard);
            Assert.True(receive.ExitCode == 0, receive.Output);
        }
        finally
        {
            await fixture.DeleteStreamsAsync(stream);
        }
    }

    [Fact]
    public async Task OffsetTracking_second_run_after_another_send_handles_only_the_new_messages()
    {
        var stream = BrokerFixture.UniqueName("stream-offset-tracking");
        try
        {
            var (code, output) = await SampleProcess.RunAsync(OffsetSend, "--stream", stream);
            Assert.True(code == 0, output);
            Assert.Contains("Publishing 100 messages...", output, StringComparison.Ordinal);
            Assert.Contains("Messages confirmed: true.", output, StringComparison.Ordinal);

            (code, output) = await SampleProcess.RunAsync(OffsetReceive, "--stream", stream);
            Assert.True(code == 0, output);
            Assert.Contains("Started consuming from first...", output, StringComparison.Ordinal);
            Assert.Contains("Done consuming, 100 messages, first offset: 0, last offset: 99.", output, StringComparison.Ordinal);

            (code, output) = await SampleProcess.RunAsync(OffsetSend, "--stream", stream);
            Assert.True(code == 0, output);

            (code, output) = await SampleProcess.RunAsync(OffsetReceive, "--stream", stream);
            Assert.True(code == 0, output);
            Assert.Contains("Started consuming from offset 100...", output, StringComparison.Ordinal);
            // The broker keeps stored offsets in the stream itself (tracking chunks take offsets too), so the second
            // batch starts a little after 100: what matters is that exactly the 100 new messages were handled.
            var (handled, first, last) = ParseDone(output);
            Assert.Equal(100, handled);
            Assert.InRange(first, 100UL, 199UL);
            Assert.True(last > first + 98, output);

            await using var system = await fixture.ConnectAsync();
            Assert.Equal(last, await system.QueryOffsetAsync("offset-tracking-tutorial", stream, TestContext.Current.CancellationToken));
        }
        finally
        {
            await fixture.DeleteStreamsAsync(stream);
        }
    }

    [Fact]
    public async Task OffsetTracking_receive_finds_the_marker_among_raw_messages()
    {
        var stream = BrokerFixture.UniqueName("stream-offset-tracking");
        try
        {
            // A Python sender with rstream's binary codec: 99 messages and "marker", all raw bytes.
            await using (var system = await fixture.ConnectAsync())
            {
                var ct = TestContext.Current.CancellationToken;
                await system.CreateStreamAsync(stream, new StreamSpec { MaxLengthBytes = 2_000_000_000 }, ct);
                await using var producer = await system.CreateProducerAsync(new ProducerOptions(stream), ct);
                var bodies = Enumerable.Range(0, 100).Select(i => (ReadOnlyMemory<byte>)System.Text.Encoding.UTF8.GetBytes(i < 99 ? $"hello {i}" : "marker")).ToArray();
                await producer.SendBatchAsync(bodies, ct);
            }

            var (code, output) = await SampleProcess.RunAsync(OffsetReceive, "--stream", stream);
            Assert.True(code == 0, output);
            Assert.Contains("Started consuming from first...", output, StringComparison.Ordinal);
            Assert.Contains("Done consuming, 100 messages, first offset: 0, last offset: 99.", output, StringComparison.Ordinal);
        }
        finally
        {
            await fixture.DeleteStreamsAsync(stream);
        }
    }

    private static (int Handled, ulong First, ulong Last) ParseDone(string output)
    {
        var match = System.Text.RegularExpressions.Regex.Match(output, @"Done consuming, (\d+) messages, first offset: (\d+), last offset: (\d+)\.");
        Assert.True(match.Success, output);
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        return (int.Parse(match.Groups[1].Value, culture), ulong.Parse(match.Groups[2].Value, culture), ulong.Parse(match.Groups[3].Value, culture));
    }
}
