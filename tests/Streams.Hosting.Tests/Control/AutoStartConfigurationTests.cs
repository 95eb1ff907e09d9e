using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Streams.Hosting.Internal;
using Streams.Hosting.Tests.Integration;

namespace Streams.Hosting.Tests.Control;

/// <summary>AutoStart from configuration: globally and per consumer name, known keys, validated.</summary>
public sealed class AutoStartConfigurationTests
{
    [Fact]
    public void AutoStart_binds_globally_and_per_consumer_name_from_configuration()
    {
        using var provider = Build(
            b => b.AddConsumer<OrderHandler>(c => { c.Stream = "orders"; c.Name = "billing"; }),
            ("RabbitStreams:Consumers:AutoStart", "false"),
            ("RabbitStreams:Consumers:ByName:billing:AutoStart", "true"));
        var options = provider.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value;
        Assert.False(options.Consumers.AutoStart);
        var consumer = provider.GetRequiredService<RabbitStreamsRegistry>().Consumers.Single().BuildOptions(null, options.Consumers);
        Assert.True(consumer.AutoStart);
    }

    [Fact]
    public void The_attribute_sets_AutoStart_off_and_configuration_can_turn_it_on()
    {
        using var provider = Build(b => b.AddConsumer<NotStartedHandler>());
        var options = provider.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value;
        Assert.False(provider.GetRequiredService<RabbitStreamsRegistry>().Consumers.Single().BuildOptions(null, options.Consumers).AutoStart);

        using var overridden = Build(b => b.AddConsumer<NotStartedHandler>(), ("RabbitStreams:Consumers:ByName:manual:AutoStart", "true"));
        var again = overridden.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value;
        Assert.True(overridden.GetRequiredService<RabbitStreamsRegistry>().Consumers.Single().BuildOptions(null, again.Consumers).AutoStart);
    }

    [Fact]
    public void AutoStart_off_for_an_anonymous_consumer_fails_the_start_naming_the_key()
    {
        using var global = Build(b => b.AddConsumer<OrderHandler>(c => c.Stream = "orders"), ("RabbitStreams:Consumers:AutoStart", "false"));
        var error = Assert.Throws<OptionsValidationException>(() => global.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value);
        Assert.Contains("RabbitStreams:Consumers:AutoStart = false requires a Name", error.Message, StringComparison.Ordinal);

        using var own = Build(b => b.AddConsumer<OrderHandler>(c => { c.Stream = "orders"; c.AutoStart = false; }));
        error = Assert.Throws<OptionsValidationException>(() => own.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value);
        Assert.Contains("AutoStart = false requires a Name", error.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Build(Action<IRabbitStreamsBuilder> configure, params (string Key, string? Value)[] values)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton(new Probe());
        configure(services.AddRabbitStreams(configuration));
        return services.BuildServiceProvider();
    }
}

[StreamConsumer("orders", Name = "manual", AutoStart = false)]
internal sealed class NotStartedHandler : IStreamHandler<Consuming.Order>
{
    public Task HandleAsync(Consuming.Order message, StreamContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}
