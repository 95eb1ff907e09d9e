using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Client;
using Streams.Testing;

namespace Streams.Hosting.Tests.Integration;

/// <summary>What handlers saw, shared with the test through DI.</summary>
internal sealed class Probe
{
    private readonly Channel<(object Message, StreamContext Context)> _received = Channel.CreateUnbounded<(object, StreamContext)>();

    public ConcurrentQueue<(object Message, StreamContext Context)> All { get; } = new();

    public ConcurrentQueue<int> BatchSizes { get; } = new();

    public int Invocations;

    /// <summary>Orders with this id wait for <see cref="Release"/> (and signal <see cref="Blocked"/>).</summary>
    public string? BlockOn { get; set; }

    public TaskCompletionSource Blocked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Message ids (or bodies) the handler throws for.</summary>
    public ConcurrentDictionary<string, bool> Poison { get; } = new();

    public void Record(object message, StreamContext context)
    {
        All.Enqueue((message, context));
        _received.Writer.TryWrite((message, context));
    }

    public async Task<List<(object Message, StreamContext Context)>> TakeAsync(int count, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        using var cts = new CancellationTokenSource(limit);
        var list = new List<(object, StreamContext)>();
        try
        {
            while (list.Count < count)
            {
                list.Add(await _received.Reader.ReadAsync(cts.Token));
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            var seen = string.Join(", ", list.Select(r => $"{r.Item1}@{r.Item2.Offset}"));
            throw new TimeoutException($"The handlers recorded {list.Count} of {count} messages within {limit.TotalSeconds:0.#} s ({Invocations} invocations in all; taken: [{seen}]).");
        }

        return list;
    }

    public bool TryTake(out (object Message, StreamContext Context) item) => _received.Reader.TryRead(out item);
}

[StreamConsumer("set-by-test")]
internal sealed class OrderHandler(Probe probe) : IStreamHandler<Consuming.Order>
{
    public async Task HandleAsync(Consuming.Order message, StreamContext context, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref probe.Invocations);
        if (probe.BlockOn == message.Id)
        {
            probe.Blocked.TrySetResult();
            await probe.Release.Task.WaitAsync(cancellationToken);
        }

        if (probe.Poison.ContainsKey(message.Id))
        {
            throw new InvalidOperationException($"poison order {message.Id}");
        }

        probe.Record(message, context);
    }
}

[StreamConsumer("set-by-test")]
internal sealed class RawBatchHandler(Probe probe) : IStreamBatchHandler<byte[]>
{
    public Task HandleAsync(IReadOnlyList<StreamMessage<byte[]>> messages, CancellationToken cancellationToken)
    {
        probe.BatchSizes.Enqueue(messages.Count);
        foreach (var m in messages)
        {
            probe.Record(m.Message, m.Context);
        }

        return Task.CompletedTask;
    }
}

internal static class TestHost
{
    public static IHost Build(BrokerFixture broker, Action<IRabbitStreamsBuilder> configure, Action<RabbitStreamsOptions>? options = null, Probe? probe = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddLogging();
        builder.Services.AddSingleton(probe ?? new Probe());
        var streams = builder.Services.AddRabbitStreams(o =>
        {
            Apply(broker.Endpoint, o);
            o.Consumers.CommitInterval = TimeSpan.FromMilliseconds(200);
            o.Consumers.RecoveryDelay = TimeSpan.FromMilliseconds(500);
            options?.Invoke(o);
        });
        configure(streams);
        return builder.Build();
    }

    public static void Apply(BrokerEndpoint endpoint, RabbitStreamsOptions options)
    {
        options.Endpoints.Add(new RabbitStreamsEndpoint(endpoint.Host, endpoint.Port));
        options.UserName = endpoint.UserName;
        options.Password = endpoint.Password;
        options.VirtualHost = endpoint.VirtualHost;
    }

    public static Task<StreamSystem> ConnectAsync(BrokerEndpoint endpoint)
    {
        var options = new RabbitStreamsOptions();
        Apply(endpoint, options);
        return StreamSystem.ConnectAsync(options.ToStreamSystemOptions());
    }

    /// <summary>The first message of <paramref name="stream"/> (e.g. a dead-letter stream), waiting up to 30 s for it.</summary>
    public static async Task<Message> ReadFirstMessageAsync(StreamSystem system, string stream, CancellationToken cancellationToken)
    {
        await using var consumer = await system.CreateConsumerAsync(new ConsumerOptions(stream) { Offset = OffsetSpecification.First }, cancellationToken);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(30));
        await foreach (var delivery in consumer.ReadAllAsync(cts.Token))
        {
            return delivery.DecodeMessage();
        }

        throw new InvalidOperationException($"Stream '{stream}' ended without a message.");
    }

    /// <summary>Waits for a condition that asks the broker (awaited, not blocking a pool thread); see <see cref="Eventually"/>.</summary>
    public static Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) => Eventually.TrueAsync(condition, what, timeout);

    /// <summary>Waits for a condition other threads make true; see <see cref="Eventually"/>.</summary>
    public static Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null) => Eventually.TrueAsync(condition, what, timeout);
}

[StreamConsumer("set-by-test")]
internal sealed class ConcurrentHandler(Probe probe) : IStreamHandler<Consuming.Order>
{
    private static int s_active;

    public static int MaxActive;

    public async Task HandleAsync(Consuming.Order message, StreamContext context, CancellationToken cancellationToken)
    {
        var active = Interlocked.Increment(ref s_active);
        int max;
        while ((max = Volatile.Read(ref MaxActive)) < active && Interlocked.CompareExchange(ref MaxActive, active, max) != max)
        {
        }

        await Task.Delay(10, cancellationToken);
        Interlocked.Decrement(ref s_active);
        probe.Record(message, context);
    }
}
