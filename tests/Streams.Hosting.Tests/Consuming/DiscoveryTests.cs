using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Streams.Client;
using Streams.Hosting.Internal;

namespace Streams.Hosting.Tests.Consuming;

public sealed record Order(string Id, decimal Amount);

[StreamConsumer("orders", Name = "billing", Offset = StreamOffset.Next)]
internal sealed class BillingHandler : IStreamHandler<Order>
{
    public Task HandleAsync(Order message, StreamContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}

[StreamConsumer("orders", Name = "audit")]
internal sealed class AuditBatchHandler : IStreamBatchHandler<byte[]>
{
    public Task HandleAsync(IReadOnlyList<StreamMessage<byte[]>> messages, CancellationToken cancellationToken) => Task.CompletedTask;
}

internal sealed class UnattributedHandler : IStreamHandler<string>
{
    public Task HandleAsync(string message, StreamContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}

internal sealed class NotAHandler
{
}

internal sealed class TwoHandlers : IStreamHandler<string>, IStreamHandler<Order>
{
    public Task HandleAsync(string message, StreamContext context, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task HandleAsync(Order message, StreamContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}

[StreamConsumer("orders", SingleActiveConsumer = true)]
internal sealed class SacWithoutName : IStreamHandler<string>
{
    public Task HandleAsync(string message, StreamContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}

[StreamConsumer("orders", Name = "billing")]
internal sealed class DuplicateName : IStreamHandler<string>
{
    public Task HandleAsync(string message, StreamContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}

public sealed class DiscoveryTests
{
    [Fact]
    public void Describes_handler_and_batch_handler()
    {
        var single = ConsumerDiscovery.Describe(typeof(BillingHandler), requireAttribute: true);
        Assert.Equal(typeof(Order), single.MessageType);
        Assert.False(single.IsBatch);
        var options = single.BuildOptions(null, null);
        Assert.Equal(("orders", "billing", OffsetSpecification.Next, 1), (options.Stream, options.Name, options.Offset, options.MaxConcurrency));

        var batch = ConsumerDiscovery.Describe(typeof(AuditBatchHandler), requireAttribute: true);
        Assert.Equal(typeof(byte[]), batch.MessageType);
        Assert.True(batch.IsBatch);
        Assert.Equal(OffsetSpecification.First, batch.BuildOptions(null, null).Offset);
    }

    [Fact]
    public void Rejects_misdeclared_types_with_the_type_name()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => ConsumerDiscovery.Describe(typeof(NotAHandler), requireAttribute: false));
        Assert.Contains("NotAHandler' must implement IStreamHandler<T> or IStreamBatchHandler<T>", ex.Message, StringComparison.Ordinal);

        ex = Assert.Throws<InvalidOperationException>(() => ConsumerDiscovery.Describe(typeof(TwoHandlers), requireAttribute: false));
        Assert.Contains("IStreamHandler<String>, IStreamHandler<Order>", ex.Message, StringComparison.Ordinal);

        ex = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddRabbitStreams(_ => { }).AddConsumer<UnattributedHandler>());
        Assert.Contains("UnattributedHandler' has no [StreamConsumer] attribute", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Scanning_finds_attributed_classes_and_reports_errors_at_start()
    {
        var services = new ServiceCollection();
        services.AddRabbitStreams(_ => { }).AddConsumersFromAssemblyContaining<DiscoveryTests>();
        var registry = (RabbitStreamsRegistry)services.Single(d => d.ServiceType == typeof(RabbitStreamsRegistry)).ImplementationInstance!;
        Assert.Contains(registry.Consumers, c => c.HandlerType == typeof(BillingHandler));
        Assert.Contains(registry.Consumers, c => c.HandlerType == typeof(AuditBatchHandler));
        Assert.DoesNotContain(registry.Consumers, c => c.HandlerType == typeof(UnattributedHandler));
        Assert.DoesNotContain(services, d => d.ServiceType == typeof(BillingHandler));

        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value);
        Assert.Contains(ex.Failures, f => f.Contains("SacWithoutName': SingleActiveConsumer requires a Name", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("Name 'billing' on stream 'orders' is already used by", StringComparison.Ordinal));
    }

    [Fact]
    public void AddConsumer_configures_unattributed_and_scanned_handlers()
    {
        var services = new ServiceCollection();
        var builder = services.AddRabbitStreams(_ => { });
        builder.AddConsumer<UnattributedHandler>(c => { c.Stream = "logs"; c.Name = "tail"; c.Offset = OffsetSpecification.Offset(42); });
        builder.AddConsumer<BillingHandler>();
        builder.AddConsumer<BillingHandler>(c => c.FailurePolicy = new HandlerFailurePolicy { AfterRetries = FailureAction.Stop });
        var registry = (RabbitStreamsRegistry)services.Single(d => d.ServiceType == typeof(RabbitStreamsRegistry)).ImplementationInstance!;
        Assert.Equal(2, registry.Consumers.Count);
        var tail = registry.FindConsumer(typeof(UnattributedHandler))!.BuildOptions(null, null);
        Assert.Equal(("logs", "tail", OffsetSpecification.Offset(42)), (tail.Stream, tail.Name, tail.Offset));
        var billing = registry.FindConsumer(typeof(BillingHandler))!.BuildOptions(null, null);
        Assert.Equal(FailureAction.Stop, billing.FailurePolicy!.AfterRetries);

        using var provider = services.BuildServiceProvider();
        _ = provider.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value;
    }

    [Fact]
    public void Declared_streams_are_validated_at_start()
    {
        var services = new ServiceCollection();
        services.AddRabbitStreams(_ => { })
            .AddStream("ok", s => s.MaxAge = TimeSpan.FromDays(7))
            .AddStream("bad", s => s.FilterSizeBytes = 1000);
        Assert.Throws<InvalidOperationException>(() => services.AddRabbitStreams(_ => { }).AddStream("ok"));
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value);
        Assert.Contains(ex.Failures, f => f.Contains("stream 'bad' declared with AddStream has an invalid spec", StringComparison.Ordinal));
    }
}
