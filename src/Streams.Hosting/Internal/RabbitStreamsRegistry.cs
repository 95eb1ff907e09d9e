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

    /// <summary>The consumer's settings: attribute, then the configure callbacks.</summary>
    public StreamConsumerOptions BuildOptions()
    {
        var options = new StreamConsumerOptions();
        if (Attribute is not null)
        {
            options.Stream = Attribute.Stream;
            options.Name = Attribute.Name;
            options.Offset = Attribute.Offset switch
            {
                StreamOffset.Last => OffsetSpecification.Last,
                StreamOffset.Next => OffsetSpecification.Next,
                _ => OffsetSpecification.First,
            };
            options.SingleActiveConsumer = Attribute.SingleActiveConsumer;
            options.SuperStream = Attribute.SuperStream;
            options.MaxConcurrency = Attribute.MaxConcurrency;
        }

        foreach (var configure in Configure)
        {
            configure(options);
        }

        return options;
    }

    public override string ToString() => HandlerType.FullName ?? HandlerType.Name;
}
