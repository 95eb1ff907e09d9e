using Streams.Testing;

namespace Streams.Client.Tests.Producers;

/// <summary>A stream system plus a fresh stream, deleted on dispose.</summary>
internal sealed class BrokerStream : IAsyncDisposable
{
    private BrokerStream(StreamSystem system, string stream)
    {
        System = system;
        Stream = stream;
    }

    public StreamSystem System { get; }

    public string Stream { get; }

    public static async Task<BrokerStream> CreateAsync(BrokerFixture fixture, string prefix, CancellationToken ct, Action<StreamSystemOptions>? configure = null)
    {
        var options = new StreamSystemOptions
        {
            UserName = fixture.Endpoint.UserName,
            Password = fixture.Endpoint.Password,
            VirtualHost = fixture.Endpoint.VirtualHost,
            ConnectionName = $"consume-tests-{prefix}",
        };
        options.Endpoints.Add(new StreamEndpoint(fixture.Endpoint.Host, fixture.Endpoint.Port));
        configure?.Invoke(options);
        var system = await StreamSystem.ConnectAsync(options, ct);
        var stream = BrokerFixture.UniqueName(prefix);
        await system.CreateStreamAsync(stream, null, ct);
        return new BrokerStream(system, stream);
    }

    public static byte[] Body(int i) => global::System.Text.Encoding.UTF8.GetBytes($"message-{i}");

    /// <summary>Reads <paramref name="count"/> deliveries (copied) or fails after <paramref name="seconds"/>.</summary>
    public static async Task<List<(ulong Offset, byte[] Body, DateTimeOffset Timestamp)>> ReadAsync(Consumer consumer, int count, int seconds = 20)
    {
        var list = new List<(ulong, byte[], DateTimeOffset)>();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(seconds));
        try
        {
            await foreach (var d in consumer.ReadAllAsync(cts.Token))
            {
                list.Add((d.Offset, d.Body.ToArray(), d.Timestamp));
                if (list.Count == count)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            Assert.Fail($"Only {list.Count} of {count} messages arrived within {seconds} s.");
        }

        return list;
    }

    /// <summary>Asserts that nothing more arrives within <paramref name="milliseconds"/>.</summary>
    public static async Task AssertNothingMoreAsync(Consumer consumer, int milliseconds = 500)
    {
        using var cts = new CancellationTokenSource(milliseconds);
        try
        {
            await foreach (var d in consumer.ReadAllAsync(cts.Token))
            {
                var text = global::System.Text.Encoding.UTF8.GetString(d.Body.Span);
                Assert.Fail($"Unexpected message at offset {d.Offset}: {text}");
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await System.DeleteStreamAsync(Stream, CancellationToken.None);
        }
        finally
        {
            await System.DisposeAsync();
        }
    }
}
