using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Hosting.Tests.Consuming;
using Streams.Testing;

namespace Streams.Hosting.Tests.Integration;

[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class ConcurrencyTests(BrokerFixture broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task MaxConcurrency_runs_groups_in_parallel_keeps_order_per_group_and_commits_the_watermark()
    {
        var stream = BrokerFixture.UniqueName("hosting-concurrent");
        Volatile.Write(ref ConcurrentHandler.MaxActive, 0); // static: measure this test's run only

        // Everything is in the stream before the consumer starts, so the lanes have work at the same time (published
        // one by one while consuming, a slow machine could hand them over one at a time).
        using (var publishing = TestHost.Build(broker, b => b.AddStream(stream)))
        {
            await publishing.StartAsync(Ct);
            var publisher = publishing.Services.GetRequiredService<IStreamPublisher>();
            for (var i = 0; i < 40; i++)
            {
                await publisher.PublishAsync(stream, new Order($"g{i % 4}/{i}", i), new PublishOptions { GroupId = $"g{i % 4}" }, Ct);
            }

            await publishing.StopAsync(Ct);
        }

        using var host = TestHost.Build(broker, b => b.AddConsumer<ConcurrentHandler>(c => { c.Stream = stream; c.Name = "par"; c.MaxConcurrency = 4; }));
        var probe = host.Services.GetRequiredService<Probe>();
        await host.StartAsync(Ct);

        var received = await probe.TakeAsync(40);
        foreach (var group in received.GroupBy(r => ((Order)r.Message).Id.Split('/')[0]))
        {
            var sequence = group.Select(r => ((Order)r.Message).Amount).ToList();
            Assert.Equal(sequence.Order(), sequence);
        }

        Assert.True(Volatile.Read(ref ConcurrentHandler.MaxActive) > 1, "handlers ran concurrently");
        await host.StopAsync(Ct);
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        Assert.Equal(received.Max(r => r.Context.Offset), await system.QueryOffsetAsync("par", stream, Ct));
    }
}
