using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streams.Client;
using Streams.Hosting.Internal;

namespace Streams.Hosting.Tests.DependencyInjection;

public interface IBillingService
{
    decimal Charge(decimal amount);
}

internal sealed class BillingService : IBillingService
{
    public decimal Charge(decimal amount) => amount;
}

[StreamConsumer("orders")]
internal sealed class NeedsBillingHandler(IBillingService billing, ILogger<NeedsBillingHandler> logger) : IStreamHandler<byte[]>
{
    public Task HandleAsync(byte[] message, StreamContext context, CancellationToken cancellationToken)
    {
        logger.LogDebug("charged {Amount}", billing.Charge(message.Length));
        return Task.CompletedTask;
    }
}

[StreamConsumer("invoices")]
internal sealed class NeedsKeyedBillingHandler([FromKeyedServices("eu")] IBillingService billing) : IStreamHandler<byte[]>
{
    public Task HandleAsync(byte[] message, StreamContext context, CancellationToken cancellationToken) => Task.FromResult(billing.Charge(1));
}

[StreamConsumer("audit")]
internal sealed class OptionalDependencyHandler(IBillingService? billing = null) : IStreamHandler<byte[]>
{
    public Task HandleAsync(byte[] message, StreamContext context, CancellationToken cancellationToken) => Task.FromResult(billing?.Charge(1));
}

[StreamConsumer("{Orders:Stream}", Name = "{Orders:Consumer}")]
internal sealed class ConfiguredOrdersHandler : IStreamHandler<byte[]>
{
    public Task HandleAsync(byte[] message, StreamContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}

[StreamConsumer("orders-{Region}", Name = "{Orders:Consumer}")]
internal sealed class RegionalOrdersHandler : IStreamHandler<byte[]>
{
    public Task HandleAsync(byte[] message, StreamContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Issue 14, traps 1 and 3: what is knowable at start fails the start, every problem reported together and naming the
/// type or key: handler dependencies the provider does not know, configuration placeholders in the attribute, the
/// per-consumer settings bound by consumer name, and two consumers whose resolved stream and name collide.
/// </summary>
public sealed class StartValidationTests
{
    private static (ServiceProvider Provider, IRabbitStreamsBuilder Builder) Build(
        Action<IServiceCollection>? services, Action<IRabbitStreamsBuilder> consumers, params (string Key, string? Value)[] configuration)
    {
        var root = new ConfigurationBuilder()
            .AddInMemoryCollection(configuration.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build();
        var collection = new ServiceCollection();
        collection.AddLogging();
        collection.AddSingleton<IConfiguration>(root);
        services?.Invoke(collection);
        var builder = collection.AddRabbitStreams(root);
        consumers(builder);
        return (collection.BuildServiceProvider(), builder);
    }

    private static OptionsValidationException? Validate(
        Action<IServiceCollection>? services, Action<IRabbitStreamsBuilder> consumers, params (string Key, string? Value)[] configuration)
    {
        using var provider = Build(services, consumers, configuration).Provider;
        try
        {
            _ = provider.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value;
            return null;
        }
        catch (OptionsValidationException ex)
        {
            return ex;
        }
    }

    private static StreamConsumerOptions Resolved<THandler>(ServiceProvider provider)
    {
        var options = provider.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value;
        var registration = provider.GetRequiredService<RabbitStreamsRegistry>().FindConsumer(typeof(THandler))!;
        return registration.BuildOptions(provider.GetRequiredService<IConfiguration>(), options.Consumers);
    }

    [Fact]
    public void A_dependency_that_is_not_registered_fails_the_start_naming_handler_parameter_and_type_together_with_a_typo()
    {
        var error = Validate(null, b => b.AddConsumer<NeedsBillingHandler>().AddConsumer<NeedsKeyedBillingHandler>(),
            ("RabbitStreams:ConectionString", "rabbitmq-stream://guest:guest@localhost:5552/%2f"));

        Assert.NotNull(error);
        Assert.Contains(
            $"Stream consumer '{typeof(NeedsBillingHandler).FullName}': constructor parameter 'billing' needs IBillingService, which is not registered in the service collection",
            error.Message,
            StringComparison.Ordinal);
        Assert.Contains(
            $"Stream consumer '{typeof(NeedsKeyedBillingHandler).FullName}': constructor parameter 'billing' needs the keyed service IBillingService with key 'eu', which is not registered",
            error.Message,
            StringComparison.Ordinal);
        Assert.Contains("RabbitStreams:ConectionString is not a known setting (did you mean RabbitStreams:ConnectionString?)", error.Message, StringComparison.Ordinal);

        // ILogger<T> is known to the provider; only the missing services are reported.
        Assert.DoesNotContain("'logger'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Scoped_transient_keyed_and_optional_dependencies_that_are_registered_pass()
    {
        Assert.Null(Validate(
            s => s.AddScoped<IBillingService, BillingService>().AddKeyedTransient<IBillingService, BillingService>("eu"),
            b => b.AddConsumer<NeedsBillingHandler>().AddConsumer<NeedsKeyedBillingHandler>().AddConsumer<OptionalDependencyHandler>()));
    }

    [Fact]
    public void A_handler_registered_by_the_application_is_checked_through_its_implementation_type()
    {
        var error = Validate(s => s.AddScoped<NeedsBillingHandler>(), b => b.AddConsumer<NeedsBillingHandler>());
        Assert.NotNull(error);
        Assert.Contains("constructor parameter 'billing' needs IBillingService", error.Message, StringComparison.Ordinal);

        // A factory registration is the application's own code: nothing to check.
        Assert.Null(Validate(
            s => s.AddScoped(sp => new NeedsBillingHandler(new BillingService(), sp.GetRequiredService<ILogger<NeedsBillingHandler>>())),
            b => b.AddConsumer<NeedsBillingHandler>()));
    }

    [Fact]
    public void Attribute_placeholders_are_resolved_from_configuration()
    {
        var (provider, _) = Build(null, b => b.AddConsumer<ConfiguredOrdersHandler>().AddConsumer<RegionalOrdersHandler>(),
            ("Orders:Stream", "orders-v2"), ("Orders:Consumer", "billing"), ("Region", "eu"));
        using (provider)
        {
            var configured = Resolved<ConfiguredOrdersHandler>(provider);
            Assert.Equal(("orders-v2", "billing"), (configured.Stream, configured.Name));
            var regional = Resolved<RegionalOrdersHandler>(provider);
            Assert.Equal(("orders-eu", "billing"), (regional.Stream, regional.Name));
        }
    }

    [Fact]
    public void An_unresolved_placeholder_fails_the_start_naming_the_key_and_the_attribute()
    {
        var error = Validate(null, b => b.AddConsumer<ConfiguredOrdersHandler>(), ("Orders:Consumer", "billing"));
        Assert.NotNull(error);
        Assert.Contains(
            $"[StreamConsumer] Stream of '{typeof(ConfiguredOrdersHandler).FullName}' '{{Orders:Stream}}': configuration key 'Orders:Stream' is not set",
            error.Message,
            StringComparison.Ordinal);
        Assert.Contains("Orders__Stream", error.Message, StringComparison.Ordinal);

        error = Validate(null, b => b.AddConsumer<ConfiguredOrdersHandler>(), ("Orders:Stream", string.Empty), ("Orders:Consumer", "billing"));
        Assert.NotNull(error);
        Assert.Contains("configuration key 'Orders:Stream' is empty", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("orders-{Region", "has a '{' without its '}'")]
    [InlineData("orders-}", "has a '}' without its '{'")]
    [InlineData("orders-{}", "has an empty or malformed placeholder")]
    public void A_malformed_placeholder_is_an_error(string value, string expected)
    {
        var error = Assert.Throws<InvalidOperationException>(() => ConfigurationPlaceholders.Resolve(value, new ConfigurationBuilder().Build(), "Stream"));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Doubled_braces_are_literal_and_a_value_without_placeholders_needs_no_configuration()
    {
        Assert.Equal("a{b}c", ConfigurationPlaceholders.Resolve("a{{b}}c", null, "Stream"));
        Assert.Equal("orders", ConfigurationPlaceholders.Resolve("orders", null, "Stream"));
        var error = Assert.Throws<InvalidOperationException>(() => ConfigurationPlaceholders.Resolve("{Orders:Stream}", null, "Stream"));
        Assert.Contains("no IConfiguration is registered", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Per_consumer_settings_are_bound_by_consumer_name_and_the_code_callback_runs_last()
    {
        var (provider, _) = Build(
            null,
            b => b.AddConsumer<ConfiguredOrdersHandler>(c => c.CommitEveryMessages = 7).AddConsumer<OptionalDependencyHandler>(),
            ("Orders:Stream", "orders-v2"),
            ("Orders:Consumer", "billing"),
            ("RabbitStreams:Consumers:ByName:billing:Stream", "orders-eu"),
            ("RabbitStreams:Consumers:ByName:billing:Offset", "Next"),
            ("RabbitStreams:Consumers:ByName:billing:MaxConcurrency", "4"),
            ("RabbitStreams:Consumers:ByName:billing:FilterValues:0", "eu"),
            ("RabbitStreams:Consumers:ByName:billing:CommitEveryMessages", "100"),
            ("RabbitStreams:Consumers:ByName:billing:FailurePolicy:MaxRetries", "1"),
            ("RabbitStreams:Consumers:ByName:OptionalDependencyHandler:Stream", "audit-v2"));
        using (provider)
        {
            var billing = Resolved<ConfiguredOrdersHandler>(provider);
            Assert.Equal(("orders-eu", "billing", OffsetSpecification.Next, 4), (billing.Stream, billing.Name, billing.Offset, billing.MaxConcurrency));
            Assert.Equal(["eu"], billing.FilterValues!);
            Assert.Equal(1, billing.FailurePolicy!.MaxRetries);
            Assert.Equal(7, billing.CommitEveryMessages);

            // A consumer without a name is found by its handler class name.
            Assert.Equal("audit-v2", Resolved<OptionalDependencyHandler>(provider).Stream);
        }
    }

    [Fact]
    public void A_per_consumer_entry_that_matches_no_consumer_fails_the_start_with_the_nearest_name()
    {
        var error = Validate(null, b => b.AddConsumer<ConfiguredOrdersHandler>(),
            ("Orders:Stream", "orders"), ("Orders:Consumer", "billing"),
            ("RabbitStreams:Consumers:ByName:biling:Stream", "orders-eu"),
            ("RabbitStreams:Consumers:ByName:billing:MaxConcurency", "4"));
        Assert.NotNull(error);
        Assert.Contains("RabbitStreams:Consumers:ByName:biling matches no consumer (did you mean RabbitStreams:Consumers:ByName:billing?)", error.Message, StringComparison.Ordinal);
        Assert.Contains("RabbitStreams:Consumers:ByName:billing:MaxConcurency is not a known setting (did you mean RabbitStreams:Consumers:ByName:billing:MaxConcurrency?)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_consumers_whose_resolved_stream_and_name_collide_fail_the_start()
    {
        var error = Validate(null, b => b.AddConsumer<ConfiguredOrdersHandler>().AddConsumer<RegionalOrdersHandler>(),
            ("Orders:Stream", "orders-eu"), ("Orders:Consumer", "billing"), ("Region", "eu"));
        Assert.NotNull(error);
        Assert.Contains("Name 'billing' on stream 'orders-eu' is already used by", error.Message, StringComparison.Ordinal);
    }
}
