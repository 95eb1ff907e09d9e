using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Streams.Client;

namespace Streams.Hosting.Internal;

internal sealed class RabbitStreamsBuilder : IRabbitStreamsBuilder
{
    private readonly RabbitStreamsRegistry _registry;

    public RabbitStreamsBuilder(IServiceCollection services, RabbitStreamsRegistry registry)
    {
        Services = services;
        _registry = registry;
    }

    public IServiceCollection Services { get; }

    public IRabbitStreamsBuilder AddStream(string name, Action<StreamSpec>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Declare(name, null, configure);
        return this;
    }

    public IRabbitStreamsBuilder AddSuperStream(string name, int partitions, Action<StreamSpec>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(partitions, 1000);
        Declare(name, partitions, configure);
        return this;
    }

    public IRabbitStreamsBuilder AddSuperStream(string name, IEnumerable<string> bindingKeys, Action<StreamSpec>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(bindingKeys);
        var keys = bindingKeys.ToArray();
        if (keys.Length is < 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(bindingKeys), keys.Length, "A super stream needs 1 to 1,000 binding keys.");
        }

        if (keys.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("Binding keys must not be empty.", nameof(bindingKeys));
        }

        if (keys.Distinct(StringComparer.Ordinal).Count() != keys.Length)
        {
            throw new ArgumentException($"Binding keys must be distinct (got {string.Join(", ", keys)}).", nameof(bindingKeys));
        }

        Declare(name, keys.Length, configure, keys);
        Services.Configure<RabbitStreamsOptions>(o => o.Publishing.SuperStreamRouting.TryAdd(name, SuperStreamRoutingStrategy.Key));
        return this;
    }

    public IRabbitStreamsBuilder AddConsumer<THandler>(Action<StreamConsumerOptions>? configure = null)
        where THandler : class
    {
        var registration = _registry.FindConsumer(typeof(THandler));
        if (registration is null)
        {
            registration = ConsumerDiscovery.Describe(typeof(THandler), requireAttribute: configure is null);
            Add(registration);
        }

        if (configure is not null)
        {
            registration.Configure.Add(configure);
        }

        return this;
    }

    public IRabbitStreamsBuilder AddConsumersFromAssembly(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        foreach (var registration in ConsumerDiscovery.Scan(assembly))
        {
            if (_registry.FindConsumer(registration.HandlerType) is null)
            {
                Add(registration);
            }
        }

        return this;
    }

    public IRabbitStreamsBuilder AddConsumeFilter<TFilter>()
        where TFilter : class, IStreamConsumeFilter
    {
        _registry.ConsumeFilters.Add(ConsumeFilters.Validate(typeof(TFilter)));
        return this;
    }

    public IRabbitStreamsBuilder AddSerializer(IStreamSerializer serializer)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        ArgumentException.ThrowIfNullOrWhiteSpace(serializer.ContentType, "serializer.ContentType");
        Services.AddSingleton(serializer);
        return this;
    }

    private void Declare(string name, int? partitions, Action<StreamSpec>? configure, IReadOnlyList<string>? bindingKeys = null)
    {
        if (_registry.Streams.Exists(s => s.Name == name))
        {
            throw new InvalidOperationException($"Stream '{name}' is declared twice (AddStream/AddSuperStream).");
        }

        var spec = new StreamSpec();
        configure?.Invoke(spec);
        _registry.Streams.Add(new StreamDeclaration(name, partitions, spec, bindingKeys));
    }

    private void Add(ConsumerRegistration registration)
    {
        // Not registered in DI: a handler is activated per message from a fresh scope (like a controller), unless the
        // application registers the handler type itself, in which case that registration (and its lifetime) is used.
        _registry.Consumers.Add(registration);
    }
}
