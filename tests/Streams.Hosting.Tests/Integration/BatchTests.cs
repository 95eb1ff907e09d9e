using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Streams.Client;
using Streams.Testing;

namespace Streams.Hosting.Tests.Integration;

/// <summary>Fails a batch that holds a body equal to <see cref="Probe.Poison"/>'s keys; records the others.</summary>
[StreamConsumer("set-by-test")]
internal sealed class PoisonableBatchHandler(Probe probe) : IStreamBatchHandler<byte[]>
{
    public Task HandleAsync(IReadOnlyList<StreamMessage<byte[]>> messages, CancellationToken cancellationToken)
    {
        if (messages.Any(m => probe.Poison.ContainsKey(Encoding.UTF8.GetString(m.Message))))
        {
            throw new InvalidOperationException("poison batch");
        }

        probe.BatchSizes.Enqueue(messages.Count);
        foreach (var m in messages)
        {
            probe.Record(m.Message, m.Context);
        }

        return Task.CompletedTask;
    }
}

[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class BatchTests(BrokerFixture broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<string> StreamWithAsync(string prefix, int count, int frames)
    {
        var stream = BrokerFixture.UniqueName(prefix);
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        await system.CreateStreamAsync(stream, null, Ct);
        await using var producer = await system.CreateProducerAsync(new ProducerOptions(stream), Ct);
        for (var f = 0; f < frames; f++)
        {
            await producer.SendBatchAsync([.. Enumerable.Range(f * (count / frames), count / frames).Select(i => new Message(Encoding.UTF8.GetBytes($"b{i}")))], Ct);
        }

        return stream;
    }

    [Fact]
    public async Task A_batch_holds_the_messages_of_a_chunk_up_to_the_maximum()
    {
        // Published before the host starts: whole chunks are waiting, so batches are full chunks (cut at 40).
        var stream = await StreamWithAsync("batch-chunks", 300, 3);
        using var host = TestHost.Build(broker, b => b.AddConsumer<PoisonableBatchHandler>(c => { c.Stream = stream; c.Name = "chunks"; }),
            o => o.Consumers.MaxBatchSize = 40);
        await host.StartAsync(Ct);
        var probe = host.Services.GetRequiredService<Probe>();

        var received = await probe.TakeAsync(300);
        Assert.Equal(Enumerable.Range(0, 300).Select(i => (ulong)i), received.Select(r => r.Context.Offset));
        Assert.All(probe.BatchSizes, size => Assert.InRange(size, 1, 40));
        // How the broker cuts chunks varies; one message per call would mean 300 calls.
        Assert.True(probe.BatchSizes.Count <= 100, $"{probe.BatchSizes.Count} batches for 300 messages");
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task A_failing_batch_stops_the_consumer_and_nothing_of_it_is_stored()
    {
        var stream = await StreamWithAsync("batch-stop", 100, 2);
        var probe = new Probe();
        probe.Poison["b70"] = true;
        using var host = TestHost.Build(broker, b => b.AddConsumer<PoisonableBatchHandler>(c =>
        {
            c.Stream = stream;
            c.Name = "stopper";
            c.FailurePolicy = new HandlerFailurePolicy { MaxRetries = 1, RetryDelay = TimeSpan.Zero, AfterRetries = FailureAction.Stop };
        }), probe: probe);
        await host.StartAsync(Ct);
        var monitor = host.Services.GetRequiredService<IStreamConsumerMonitor>();

        await TestHost.WaitUntilAsync(() => monitor.GetConsumers()[0].State == StreamConsumerState.Faulted, "the consumer stopped by its policy");
        var status = monitor.GetConsumers()[0];
        Assert.IsType<InvalidOperationException>(status.LastError);
        await host.StopAsync(Ct);

        // Everything before the poison batch was handled and stored; the poison message itself was not.
        var handled = probe.All.Select(r => r.Context.Offset).ToList();
        Assert.DoesNotContain(70UL, handled);
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        var stored = await system.QueryOffsetAsync("stopper", stream, Ct);
        Assert.True(stored is null || stored < 70, $"stored offset {stored}");
        Assert.Equal(handled.Count == 0 ? null : handled.Max(), stored);
    }
}
