using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Hosting.Tests.Consuming;
using Streams.Hosting.Tests.Integration;

namespace Streams.Hosting.Tests.Harness;

/// <summary>What the test filters saw.</summary>
internal sealed class FilterLog
{
    public ConcurrentQueue<string> Entries { get; } = new();

    public ConcurrentQueue<int> Attempts { get; } = new();

    public ConcurrentQueue<Guid> FilterScopes { get; } = new();

    public ConcurrentQueue<Guid> HandlerScopes { get; } = new();
}

/// <summary>A scoped service: one per invocation scope.</summary>
internal sealed class InvocationScope
{
    public Guid Id { get; } = Guid.NewGuid();
}

internal abstract class RecordingFilter(string name, FilterLog log) : IStreamConsumeFilter
{
    public async Task InvokeAsync(StreamConsumeContext context, StreamConsumeDelegate next)
    {
        log.Entries.Enqueue($"{name}>");
        await next(context);
        log.Entries.Enqueue($"<{name}");
    }
}

internal sealed class FirstFilter(FilterLog log) : RecordingFilter("A", log);

internal sealed class SecondFilter(FilterLog log) : RecordingFilter("B", log);

internal sealed class ConsumerFilter(FilterLog log) : RecordingFilter("C", log);

/// <summary>Handles orders with id "skip" itself (the handler never sees them), and records the attempt and its scope.</summary>
internal sealed class SkippingFilter(FilterLog log, InvocationScope scope) : IStreamConsumeFilter
{
    public Task InvokeAsync(StreamConsumeContext context, StreamConsumeDelegate next)
    {
        log.Attempts.Enqueue(context.Attempt);
        Assert.Same(scope, context.Services.GetRequiredService<InvocationScope>());
        log.FilterScopes.Enqueue(scope.Id);
        return context.Message is Order { Id: "skip" } ? Task.CompletedTask : next(context);
    }
}

/// <summary>Throws for orders with id "reject".</summary>
internal sealed class RejectingFilter : IStreamConsumeFilter
{
    public Task InvokeAsync(StreamConsumeContext context, StreamConsumeDelegate next) =>
        context.Message is Order { Id: "reject" } ? throw new UnauthorizedAccessException("rejected by the filter") : next(context);
}

[StreamConsumer("set-by-test")]
internal sealed class FilteredOrderHandler(Probe probe, InvocationScope scope, FilterLog log) : IStreamHandler<Order>
{
    public Task HandleAsync(Order message, StreamContext context, CancellationToken cancellationToken)
    {
        log.Entries.Enqueue("handler");
        log.HandlerScopes.Enqueue(scope.Id);
        if (probe.Poison.ContainsKey(message.Id))
        {
            throw new InvalidOperationException($"poison order {message.Id}");
        }

        probe.Record(message, context);
        return Task.CompletedTask;
    }
}

public sealed class ConsumeFilterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Filters_wrap_the_handler_global_first_then_the_consumers_own_in_the_order_added()
    {
        var log = new FilterLog();
        using var host = Build(log, b => b
            .AddConsumeFilter<FirstFilter>()
            .AddConsumeFilter<SecondFilter>()
            .AddConsumer<FilteredOrderHandler>(c => { c.Stream = "orders"; c.AddFilter<ConsumerFilter>(); }));
        await host.StartAsync(Ct);
        await host.Harness().PublishAsync("orders", new Order("o-1", 1m), cancellationToken: Ct);
        await host.Harness().WaitForConsumedAsync<Order>(cancellationToken: Ct);

        Assert.Equal(["A>", "B>", "C>", "handler", "<C", "<B", "<A"], log.Entries);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task A_filter_that_does_not_call_next_handles_the_message_and_sees_each_retry_in_the_invocations_scope()
    {
        var log = new FilterLog();
        var probe = new Probe();
        probe.Poison["flaky"] = true;
        using var host = Build(log, b => b.AddConsumer<FilteredOrderHandler>(c =>
        {
            c.Stream = "orders";
            c.Name = "filtered";
            c.CommitEveryMessages = 1;
            c.FailurePolicy = new HandlerFailurePolicy { MaxRetries = 2, RetryDelay = TimeSpan.Zero, AfterRetries = FailureAction.Skip };
            c.AddFilter<SkippingFilter>();
        }), probe);
        await host.StartAsync(Ct);
        var harness = host.Harness();

        await harness.PublishAsync("orders", new Order("skip", 1m), cancellationToken: Ct);
        await harness.PublishAsync("orders", new Order("flaky", 2m), cancellationToken: Ct);
        await harness.PublishAsync("orders", new Order("ok", 3m), cancellationToken: Ct);
        var ok = await harness.WaitForConsumedAsync<Order>(o => o.Id == "ok", cancellationToken: Ct);
        await harness.WaitForStoredOffsetAsync("orders", "filtered", ok.Context.Offset, cancellationToken: Ct);

        // "skip" counts as consumed without reaching the handler; "flaky" reached it three times (attempts 1-3), then was skipped.
        Assert.Equal(["skip", "ok"], harness.Consumed<Order>().Select(c => c.Message.Id));
        Assert.Equal(["ok"], probe.All.Select(a => ((Order)a.Message).Id));
        Assert.Equal([1, 1, 2, 3, 1], log.Attempts);
        Assert.Equal(3, Assert.Single(harness.Faulted<Order>()).Attempts);

        // The filter and the handler of one invocation share its scope; each invocation has its own.
        Assert.Equal(5, log.FilterScopes.Distinct().Count());
        Assert.Equal(4, log.HandlerScopes.Distinct().Count());
        Assert.All(log.HandlerScopes, id => Assert.Contains(id, log.FilterScopes));
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task A_filter_exception_goes_through_the_failure_policy_like_a_handler_exception()
    {
        var log = new FilterLog();
        using var host = Build(log, b => b.AddConsumeFilter<RejectingFilter>().AddConsumer<FilteredOrderHandler>(c =>
        {
            c.Stream = "orders";
            c.FailurePolicy = new HandlerFailurePolicy { MaxRetries = 1, RetryDelay = TimeSpan.Zero };
        }));
        await host.StartAsync(Ct);
        await host.Harness().PublishAsync("orders", new Order("reject", 1m), cancellationToken: Ct);

        var deadLetter = await host.Harness().WaitForDeadLetteredAsync("orders", cancellationToken: Ct);
        Assert.Equal(typeof(UnauthorizedAccessException).FullName, deadLetter.Headers["x-exception-type"]);
        Assert.Equal(2, deadLetter.Headers["x-delivery-attempts"]);
        Assert.DoesNotContain("handler", log.Entries);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task A_filter_added_to_a_batch_consumer_fails_the_start_and_global_filters_skip_batch_consumers()
    {
        using (var host = Build(new FilterLog(), b => b.AddConsumer<RawBatchHandler>(c => { c.Stream = "orders"; c.AddFilter<FirstFilter>(); })))
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(Ct));
            Assert.Contains("is a batch handler", error.Message, StringComparison.Ordinal);
            Assert.Contains("AddFilter<FirstFilter>()", error.Message, StringComparison.Ordinal);
        }

        var log = new FilterLog();
        using var running = Build(log, b => b.AddConsumeFilter<FirstFilter>().AddConsumer<RawBatchHandler>(c => c.Stream = "orders"));
        await running.StartAsync(Ct);
        await running.Harness().PublishAsync("orders", new byte[] { 1 }, cancellationToken: Ct);
        await running.Harness().WaitForConsumedAsync<byte[]>(cancellationToken: Ct);
        Assert.Empty(log.Entries);
        await running.StopAsync(Ct);
    }

    [Fact]
    public void Filter_types_must_be_concrete()
    {
        var options = new StreamConsumerOptions();
        Assert.Throws<ArgumentException>(() => options.AddFilter<RecordingFilter>());
        Assert.Empty(options.Filters);
    }

    private static IHost Build(FilterLog log, Action<IRabbitStreamsBuilder> configure, Probe? probe = null) =>
        HarnessHost.Build(b => configure(b.AddStream("orders")), probe: probe, services: s => s.AddSingleton(log).AddScoped<InvocationScope>());
}
