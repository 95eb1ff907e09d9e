using Microsoft.Extensions.Configuration;
using Streams.Client;

namespace Streams.Hosting.Internal;

/// <summary>What the builder collected: declared streams and consumers. One per service collection.</summary>
internal sealed class RabbitStreamsRegistry
{
    public RabbitStreamsRegistry(string configurationPath)
    {
        ConfigurationPath = configurationPath;
    }

    /// <summary>The configuration path used in validation messages (e.g. <c>RabbitStreams</c>).</summary>
    public string ConfigurationPath { get; set; }

    public List<StreamDeclaration> Streams { get; } = [];

    public List<ConsumerRegistration> Consumers { get; } = [];

    /// <summary>The consume filters of all consumers (AddConsumeFilter), in order.</summary>
    public List<Type> ConsumeFilters { get; } = [];

    public ConsumerRegistration? FindConsumer(Type handlerType) => Consumers.Find(c => c.HandlerType == handlerType);
}

/// <summary>A stream or super stream created at start; a super stream has <see cref="Partitions"/>, named <c>{Name}-{key}</c> when it has binding keys, else <c>{Name}-{index}</c>.</summary>
internal sealed record StreamDeclaration(string Name, int? Partitions, StreamSpec Spec, IReadOnlyList<string>? BindingKeys = null);

/// <summary>A discovered handler and the settings of its consumer.</summary>
internal sealed class ConsumerRegistration
{
    public ConsumerRegistration(Type handlerType, Type messageType, bool isBatch, StreamConsumerAttribute? attribute)
    {
        HandlerType = handlerType;
        MessageType = messageType;
        IsBatch = isBatch;
        Attribute = attribute;
    }

    public Type HandlerType { get; }

    public Type MessageType { get; }

    public bool IsBatch { get; }

    public StreamConsumerAttribute? Attribute { get; }

    public List<Action<StreamConsumerOptions>> Configure { get; } = [];

    /// <summary>The key of this consumer under <c>RabbitStreams:Consumers:ByName</c>: its name, else the handler class name.</summary>
    public static string SettingsKey(StreamConsumerOptions options, Type handlerType) => options.Name ?? handlerType.Name;

    /// <summary>
    /// The consumer's settings, in this order: the attribute (its configuration placeholders resolved from
    /// <paramref name="configuration"/>), the <c>RabbitStreams:Consumers:ByName</c> entry of its name (else of its
    /// handler class name), then the <c>AddConsumer</c> callbacks. Throws <see cref="InvalidOperationException"/> naming
    /// the attribute property and the configuration key for a placeholder that cannot be resolved.
    /// </summary>
    public StreamConsumerOptions BuildOptions(IConfiguration? configuration, RabbitStreamsConsumerOptions? defaults)
    {
        var options = FromAttribute(configuration);
        if (defaults?.ByName is { Count: > 0 } byName)
        {
            // The entry is found by the final name (a callback may set it), and the callbacks still run last.
            var probe = FromAttribute(configuration);
            ApplyCallbacks(probe);
            if (byName.TryGetValue(SettingsKey(probe, HandlerType), out var settings) && settings is not null)
            {
                settings.ApplyTo(options);
            }
        }

        ApplyCallbacks(options);
        return options;
    }

    private StreamConsumerOptions FromAttribute(IConfiguration? configuration)
    {
        var options = new StreamConsumerOptions();
        if (Attribute is not null)
        {
            options.Stream = ConfigurationPlaceholders.Resolve(Attribute.Stream, configuration, $"[StreamConsumer] Stream of '{this}'");
            options.Name = Attribute.Name is { } name ? ConfigurationPlaceholders.Resolve(name, configuration, $"[StreamConsumer] Name of '{this}'") : null;
            options.Offset = Attribute.Offset.ToSpecification();
            options.SingleActiveConsumer = Attribute.SingleActiveConsumer;
            options.SuperStream = Attribute.SuperStream;
            options.MaxConcurrency = Attribute.MaxConcurrency;
            options.AutoStart = Attribute.AutoStart ? null : false;
        }

        return options;
    }

    private void ApplyCallbacks(StreamConsumerOptions options)
    {
        foreach (var configure in Configure)
        {
            configure(options);
        }
    }

    public override string ToString() => HandlerType.FullName ?? HandlerType.Name;
}
