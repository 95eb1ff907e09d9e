using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Client;
using Streams.Testing;

namespace Streams.Hosting.Tests.Integration;

[StreamConsumer("set-by-test")]
internal sealed class CountingHandler(PerfCounter counter) : IStreamHandler<byte[]>
{
    public Task HandleAsync(byte[] message, StreamContext context, CancellationToken cancellationToken)
    {
        counter.Add(message.Length);
        return Task.CompletedTask;
    }
}

internal sealed class PerfCounter
{
    private long _count;

    public long Bytes;

    public long BytesAtTarget;

    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Target { get; set; }

    public long FirstTicks;

    public long LastTicks;

    public void Add(int bytes)
    {
        if (FirstTicks == 0)
        {
            FirstTicks = Stopwatch.GetTimestamp();
        }

        var total = Interlocked.Add(ref Bytes, bytes);
        if (Interlocked.Increment(ref _count) == Target)
        {
            BytesAtTarget = total;
            LastTicks = Stopwatch.GetTimestamp();
            Done.TrySetResult();
        }
    }
}

/// <summary>
/// Hosting overhead against the raw client (issue 5: consume ≥ 85%, publish from 64 callers ≥ 80%).
/// Explicit: run with <c>dotnet test tests/Streams.Hosting.Tests -- --explicit only</c>; PERF_MESSAGES sets the count.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class PerformanceTests(BrokerFixture broker)
{
    private static readonly int Messages = int.TryParse(Environment.GetEnvironmentVariable("PERF_MESSAGES"), out var n) ? n : 1_000_000;

    [Fact(Explicit = true)]
    public async Task Consume_and_publish_throughput_against_the_raw_client()
    {
        var ct = TestContext.Current.CancellationToken;
        var stream = BrokerFixture.UniqueName("hosting-perf");
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        await system.CreateStreamAsync(stream, null, ct);
        var body = new byte[100];
        await using (var producer = await system.CreateProducerAsync(new ProducerOptions(stream), ct))
        {
            var batch = Enumerable.Range(0, 1000).Select(_ => new Message(body)).ToArray();
            for (var i = 0; i < Messages / 1000; i++)
            {
                await producer.SendBatchAsync(batch, ct);
            }
        }

        // Raw client: decode each message (what the hosted path must do too to read the body).
        // Both rates are measured from the first message to the last (steady state, without connect/subscribe).
        long rawBytes = 0, rawFirst = 0, rawLast = 0;
        await using (var consumer = await system.CreateConsumerAsync(new ConsumerOptions(stream) { Offset = OffsetSpecification.First }, ct))
        {
            var count = 0;
            await foreach (var delivery in consumer.ReadAllAsync(ct))
            {
                if (count == 0)
                {
                    rawFirst = Stopwatch.GetTimestamp();
                }

                rawBytes += delivery.DecodeMessage().Body.Length;
                if (++count == Messages)
                {
                    rawLast = Stopwatch.GetTimestamp();
                    break;
                }
            }
        }

        var counter = new PerfCounter { Target = Messages };
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(counter);
        builder.Services.AddRabbitStreams(o => TestHost.Apply(broker.Endpoint, o)).AddConsumer<CountingHandler>(c => { c.Stream = stream; c.Name = "perf"; });
        using var host = builder.Build();
        await host.StartAsync(ct);
        await counter.Done.Task.WaitAsync(TimeSpan.FromMinutes(5), ct);

        var publishCount = Messages / 5;
        var rawPublish = Stopwatch.StartNew();
        await using (var producer = await system.CreateProducerAsync(new ProducerOptions(stream), ct))
        {
            // 64 truly concurrent callers (Parallel.ForAsync would cap them at the core count).
            await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
            {
                for (var i = 0; i < publishCount / 64; i++)
                {
                    await producer.SendAsync(new Message(body), ct);
                }
            }));
        }

        rawPublish.Stop();
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        await publisher.PublishAsync(stream, body, ct); // create the pooled producer outside the measurement
        var hostedPublish = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
        {
            for (var i = 0; i < publishCount / 64; i++)
            {
                await publisher.PublishAsync(stream, body, ct);
            }
        }));
        hostedPublish.Stop();
        await host.StopAsync(ct);

        double rawRate = (Messages - 1) / Stopwatch.GetElapsedTime(rawFirst, rawLast).TotalSeconds;
        double hostedRate = (Messages - 1) / Stopwatch.GetElapsedTime(counter.FirstTicks, counter.LastTicks).TotalSeconds;
        double rawPub = publishCount / rawPublish.Elapsed.TotalSeconds, hostedPub = publishCount / hostedPublish.Elapsed.TotalSeconds;
        TestContext.Current.SendDiagnosticMessage($"consume: raw {rawRate:N0}/s, hosted {hostedRate:N0}/s ({hostedRate / rawRate:P0})");
        TestContext.Current.SendDiagnosticMessage($"publish x64: raw {rawPub:N0}/s, hosted {hostedPub:N0}/s ({hostedPub / rawPub:P0})");
        Console.WriteLine($"PERF consume: raw {rawRate:N0}/s, hosted {hostedRate:N0}/s ({hostedRate / rawRate:P0}); publish x64: raw {rawPub:N0}/s, hosted {hostedPub:N0}/s ({hostedPub / rawPub:P0})");
        Assert.Equal(rawBytes, counter.BytesAtTarget);
    }
}
