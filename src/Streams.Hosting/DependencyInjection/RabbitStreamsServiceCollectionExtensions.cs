using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Streams.Hosting;
using Streams.Hosting.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers RabbitMQ Streams: connection, <see cref="IStreamPublisher"/> and hosted <c>[StreamConsumer]</c> handlers.</summary>
public static partial class RabbitStreamsServiceCollectionExtensions
{
    /// <summary>
    /// Adds RabbitMQ Streams with options bound from <paramref name="configuration"/>: a configuration section
    /// (e.g. <c>builder.Configuration.GetSection("RabbitStreams")</c>) or the configuration root, in which case the
    /// <c>RabbitStreams</c> section is used. Options are validated when the host starts, and a key in the section that
    /// binds to no setting (a typo such as <c>ConectionString</c>) fails the start, naming the nearest known key.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The <c>RabbitStreams</c> section, or the root configuration.</param>
    /// <returns>A builder to declare streams, consumers and serializers.</returns>
    public static IRabbitStreamsBuilder AddRabbitStreams(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration as IConfigurationSection ?? configuration.GetSection(RabbitStreamsOptions.SectionName);
        var builder = AddCore(services, section.Path);
        services.AddOptions<RabbitStreamsOptions>().Bind(section);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RabbitStreamsOptions>>(new ConfigurationKeyValidator(section)));
        return builder;
    }

    /// <summary>Adds RabbitMQ Streams configured in code. Options are validated when the host starts.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>A builder to declare streams, consumers and serializers.</returns>
    public static IRabbitStreamsBuilder AddRabbitStreams(this IServiceCollection services, Action<RabbitStreamsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var builder = AddCore(services, RabbitStreamsOptions.SectionName);
        services.AddOptions<RabbitStreamsOptions>().Configure(configure);
        return builder;
    }

    private static RabbitStreamsBuilder AddCore(IServiceCollection services, string configurationPath)
    {
        var registry = services.FirstOrDefault(d => d.ServiceType == typeof(RabbitStreamsRegistry))?.ImplementationInstance as RabbitStreamsRegistry;
        if (registry is null)
        {
            registry = new RabbitStreamsRegistry(configurationPath);
            services.AddSingleton(registry);
        }
        else if (configurationPath != RabbitStreamsOptions.SectionName)
        {
            registry.ConfigurationPath = configurationPath;
        }

        services.AddOptions<RabbitStreamsOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RabbitStreamsOptions>, RabbitStreamsOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<RabbitStreamsOptions>, CredentialsProviderSetup>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<MessageSerialization>();
        RegisterRuntime(services);
        return new RabbitStreamsBuilder(services, registry);
    }

    static partial void RegisterRuntime(IServiceCollection services);
}
