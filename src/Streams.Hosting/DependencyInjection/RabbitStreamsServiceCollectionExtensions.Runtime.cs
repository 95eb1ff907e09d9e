using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Streams.Hosting;
using Streams.Hosting.DeadLetters;
using Streams.Hosting.Internal;
using Streams.Hosting.Internal.Backend;

namespace Microsoft.Extensions.DependencyInjection;

public static partial class RabbitStreamsServiceCollectionExtensions
{
    static partial void RegisterRuntime(IServiceCollection services)
    {
        services.TryAddSingleton<StreamSystemProvider>();
        RabbitStreamsTelemetryExtensions.AddTelemetry(services);
        services.TryAddSingleton<ProducerPool>();

        // The seam: the test harness (Streams.Hosting.Testing) replaces it with an in-memory broker.
        services.TryAddSingleton<IStreamsBackend, ClientStreamsBackend>();
        services.TryAddSingleton<StreamPublisher>();
        services.TryAddSingleton<IStreamPublisher>(sp => sp.GetRequiredService<StreamPublisher>());
        services.TryAddSingleton(new HandlerScopeAnalyzer(services));
        services.TryAddSingleton<StreamTopologyInitializer>();
        services.TryAddSingleton<Streams.Hosting.Internal.Control.StreamConsumerControl>();
        services.TryAddSingleton<IStreamConsumerControl>(sp => sp.GetRequiredService<Streams.Hosting.Internal.Control.StreamConsumerControl>());
        services.TryAddSingleton<ConsumerWorkerServices>();
        services.TryAddSingleton<StreamConsumerDispatcher>();
        services.TryAddSingleton<IStreamConsumerMonitor>(sp => sp.GetRequiredService<StreamConsumerDispatcher>());
        services.TryAddSingleton<IStreamDeadLetterReplayer, HostedDeadLetterReplayer>();

        // Order matters: streams are created before the consumers start (and the consumers stop first).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, StreamTopologyInitializer>(sp => sp.GetRequiredService<StreamTopologyInitializer>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, StreamConsumerDispatcher>(sp => sp.GetRequiredService<StreamConsumerDispatcher>()));
    }
}
