using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Streams.Hosting.Tests.Consuming;
using Streams.Hosting.Tests.Integration;

namespace Streams.Hosting.Tests.Harness;

/// <summary>Handler tests on the in-memory harness: the real pipeline, no broker, milliseconds per test.</summary>
public sealed class HarnessTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Handler_unit_test_publish_consumed_offset_stored()
    {
        using var host = HarnessHost.Build(b => b
            .AddStream("orders")
            .AddConsumer<OrderHandler>(c => { c.Stream = "orders"; c.Name = "billing"; c.CommitEveryMessages = 1; }));
        await host.StartAsync(Ct);
        var harness = host.Harness();

        await harness.PublishAsync("orders", new Order("o-1", 10m), new PublishOptions { MessageId = "m-1" }, Ct);

        var consumed = await harness.WaitForConsumedAsync<Order>(o => o.Id == "o-1", cancellationToken: Ct);
        Assert.Equal(new Order("o-1", 10m), consumed.Message);
        Assert.Equal(("orders", 0UL, "m-1", "billing", 1), (consumed.Context.Stream, consumed.Context.Offset, consumed.Context.MessageId, consumed.Context.ConsumerName, consumed.Context.Attempt));
        Assert.Equal(typeof(OrderHandler), consumed.HandlerType);
        await harness.WaitForStoredOffsetAsync("orders", "billing", 0, cancellationToken: Ct);
        Assert.Equal(0UL, harness.StoredOffset("orders", "billing"));
        Assert.Equal(new Order("o-1", 10m), Assert.Single(harness.Published<Order>()).Message);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Retry_then_dead_letter_with_the_failure_headers()
    {
        var probe = new Probe();
        probe.Poison["bad"] = true;
        using var host = HarnessHost.Build(b => b
            .AddStream("orders")
            .AddConsumer<OrderHandler>(c =>
            {
                c.Stream = "orders";
                c.Name = "billing";
                c.FailurePolicy = new HandlerFailurePolicy { MaxRetries = 2, RetryDelay = TimeSpan.Zero, AfterRetries = FailureAction.DeadLetter };
            }), probe: probe);
        await host.StartAsync(Ct);
        var harness = host.Harness();

        await harness.PublishAsync("orders", new Order("bad", 1m), cancellationToken: Ct);

        var deadLetter = await harness.WaitForDeadLetteredAsync("orders", cancellationToken: Ct);
        Assert.Equal("orders.dlq", deadLetter.DeadLetterStream);
        Assert.Equal(typeof(InvalidOperationException).FullName, deadLetter.Headers["x-exception-type"]);
        Assert.Equal("poison order bad", deadLetter.Headers["x-exception-message"]);
        Assert.Equal(("orders", 0L, 3, "billing"), (deadLetter.Headers["x-original-stream"], deadLetter.Headers["x-original-offset"], deadLetter.Headers["x-delivery-attempts"], deadLetter.Headers["x-consumer-name"]));
        Assert.Equal(3, probe.Invocations);
        var faulted = Assert.Single(harness.Faulted<Order>());
        Assert.Equal((new Order("bad", 1m), 3, 0UL), (faulted.Message, faulted.Attempts, faulted.Offset));

        // The dead-letter stream holds the original message (its body deserializes) with the headers.
        var stored = Assert.Single(harness.Read("orders.dlq"));
        Assert.Equal("orders", stored.Message.ApplicationProperties!["x-original-stream"]);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Starts_without_any_network_and_reports_healthy()
    {
        // Nothing listens on this port: a connection attempt would fail (and the health check say so).
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        using var host = HarnessHost.Build(
            b => b.AddStream("orders").AddConsumer<OrderHandler>(c => { c.Stream = "orders"; c.Name = "n"; }),
            o => { o.ConnectionString = $"rabbitmq-stream://guest:guest@127.0.0.1:{port}/%2f"; o.StartBehavior = RabbitStreamsStartBehavior.FailFast; },
            services: s => s.AddHealthChecks().AddRabbitStreams());
        await host.StartAsync(Ct);
        await host.Harness().PublishAsync("orders", new Order("o", 1m), cancellationToken: Ct);
        await host.Harness().WaitForConsumedAsync<Order>(cancellationToken: Ct);

        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(Ct);
        Assert.Equal(HealthStatus.Healthy, report.Status);
        Assert.Equal("Connected", report.Entries.Single().Value.Data["connection"]);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task A_waiter_times_out_on_real_time_saying_what_it_saw_even_with_a_fake_clock()
    {
        var fake = new FakeTimeProvider(DateTimeOffset.Parse("2030-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using var host = HarnessHost.Build(
            b => b.AddStream("orders").AddConsumer<OrderHandler>(c => c.Stream = "orders"),
            services: s => s.AddSingleton<TimeProvider>(fake));
        await host.StartAsync(Ct);
        var harness = host.Harness();
        await harness.PublishAsync("orders", new Order("o-1", 1m), cancellationToken: Ct);
        await harness.WaitForConsumedAsync<Order>(cancellationToken: Ct);

        var error = await Assert.ThrowsAsync<TimeoutException>(() => harness.WaitForConsumedAsync<Order>(o => o.Id == "never", TimeSpan.FromMilliseconds(50), Ct));
        Assert.Contains("1 consumed (1 Order)", error.Message, StringComparison.Ordinal);

        // Chunk timestamps come from the host's clock.
        Assert.Equal(fake.GetUtcNow(), Assert.Single(harness.Read("orders")).Timestamp);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Batches_lanes_and_deduplication_run_on_the_harness()
    {
        var probe = new Probe();
        using var host = HarnessHost.Build(b => b
            .AddStream("raw")
            .AddStream("orders")
            .AddConsumer<RawBatchHandler>(c => { c.Stream = "raw"; c.Name = "batches"; })
            .AddConsumer<ConcurrentHandler>(c => { c.Stream = "orders"; c.MaxConcurrency = 4; }),
            o => o.Publishing.DeduplicationProducerName = "api", probe);
        await host.StartAsync(Ct);
        var harness = host.Harness();

        // Deduplication by producer reference + publishing id: the second publish of id 1 is dropped.
        await harness.PublishAsync("raw", new byte[] { 1 }, new PublishOptions { DeduplicationId = 1 }, Ct);
        await harness.PublishAsync("raw", new byte[] { 2 }, new PublishOptions { DeduplicationId = 1 }, Ct);
        await harness.PublishAsync("raw", new byte[] { 3 }, new PublishOptions { DeduplicationId = 2 }, Ct);
        Assert.Equal([[1], [3]], harness.Read("raw").Select(m => m.Message.Body.ToArray()));

        for (var i = 0; i < 20; i++)
        {
            await harness.PublishAsync("orders", new Order($"c-{i}", i), new PublishOptions { GroupId = $"g{i % 3}" }, Ct);
        }

        await harness.WaitForConsumedAsync<byte[]>(b => b[0] == 3, cancellationToken: Ct);
        for (var i = 0; i < 20; i++)
        {
            await harness.WaitForConsumedAsync<Order>(o => o.Id == $"c-{i}", cancellationToken: Ct);
        }

        Assert.Equal(2, harness.Consumed<byte[]>().Count);
        Assert.All(harness.Consumed<byte[]>(), c => Assert.Equal(typeof(RawBatchHandler), c.HandlerType));
        await host.StopAsync(Ct);
    }
}
