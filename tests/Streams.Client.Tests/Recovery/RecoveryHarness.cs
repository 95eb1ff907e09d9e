using System.Buffers.Binary;
using System.Collections.Concurrent;
using Streams.Testing;

namespace Streams.Client.Tests.Recovery;

/// <summary>
/// Tests that force-close every connection of the single node: they run alone (no other test class in parallel).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultsCollection : ICollectionFixture<BrokerFixture>
{
    public const string Name = "faults";
}

/// <summary>Shared helpers: id-carrying bodies, a recording consumer, status recording, polling.</summary>
internal static class RecoveryHarness
{
    public static readonly RecoveryPolicy FastRecovery = new()
    {
        InitialDelay = TimeSpan.FromMilliseconds(100),
        MaxDelay = TimeSpan.FromSeconds(2),
    };

    /// <summary>A 100-byte body starting with the big-endian id.</summary>
    public static byte[] Body(ulong id)
    {
        var body = new byte[100];
        BinaryPrimitives.WriteUInt64BigEndian(body, id);
        return body;
    }

    public static ulong IdOf(ReadOnlySpan<byte> body) => BinaryPrimitives.ReadUInt64BigEndian(body);

    /// <summary>A consumer from the first message, with fast recovery, that records each delivered id in <paramref name="received"/>.</summary>
    public static ConsumerOptions RecordingConsumerOptions(string stream, List<ulong> received) => new(stream)
    {
        Offset = OffsetSpecification.First,
        Recovery = FastRecovery,
        Handler = (d, _) =>
        {
            lock (received)
            {
                received.Add(IdOf(d.Body.Span));
            }

            return ValueTask.CompletedTask;
        },
    };

    public static StreamSystemOptions Options(string host, int port, string name, params (string Host, int Port)[] more)
    {
        var options = new StreamSystemOptions { ConnectionName = name };
        options.Endpoints.Add(new StreamEndpoint(host, port));
        foreach (var (h, p) in more)
        {
            options.Endpoints.Add(new StreamEndpoint(h, p));
        }

        return options;
    }

    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out after {timeout.TotalSeconds:0} s waiting for: {what}");
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Asserts that <paramref name="ids"/> is exactly 1..<paramref name="count"/> in order.</summary>
    public static void AssertExactlyOnceInOrder(IReadOnlyList<ulong> ids, int count, string who)
    {
        Assert.True(ids.Count == count, $"{who}: {ids.Count} ids instead of {count}");
        for (int i = 0; i < count; i++)
        {
            if (ids[i] != (ulong)(i + 1))
            {
                Assert.Fail($"{who}: position {i} holds id {ids[i]} instead of {i + 1} (previous {(i > 0 ? ids[i - 1] : 0)})");
            }
        }
    }

    /// <summary>
    /// Creates a consumer, waiting (up to 30 s) while the stream reports no available member: right after a node stop
    /// the metadata can briefly list neither a leader nor a replica.
    /// </summary>
    private static async Task<Consumer> CreateWhenAvailableAsync(StreamSystem system, ConsumerOptions options)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                return await system.CreateConsumerAsync(options, TestContext.Current.CancellationToken);
            }
            catch (StreamNotAvailableException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, TestContext.Current.CancellationToken);
            }
        }
    }

    /// <summary>Reads a stream from the start with a fresh consumer until <paramref name="count"/> messages, then checks nothing more comes.</summary>
    public static async Task<List<ulong>> ReadBackAsync(StreamSystem system, string stream, int count)
    {
        var ids = new List<ulong>(count);
        await using var consumer = await CreateWhenAvailableAsync(system, new ConsumerOptions(stream) { Offset = OffsetSpecification.First });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await foreach (var d in consumer.ReadAllAsync(cts.Token))
            {
                ids.Add(IdOf(d.Body.Span));
                if (ids.Count == count)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            Assert.Fail($"read back only {ids.Count} of {count}");
        }

        using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(1500));
        try
        {
            await foreach (var d in consumer.ReadAllAsync(quiet.Token))
            {
                Assert.Fail($"extra message with id {IdOf(d.Body.Span)} at offset {d.Offset}");
            }
        }
        catch (OperationCanceledException)
        {
        }

        return ids;
    }
}

/// <summary>Records every status change of a producer or consumer.</summary>
internal sealed class StatusLog
{
    private readonly ConcurrentQueue<StreamStatusChangedEventArgs> _events = new();

    public void Record(object? sender, StreamStatusChangedEventArgs e) => _events.Enqueue(e);

    public int Count(StreamStatus status) => _events.Count(e => e.Status == status);

    public override string ToString() => string.Join("; ", _events.Select(e => $"{e.Status}#{e.Attempt}"));
}
