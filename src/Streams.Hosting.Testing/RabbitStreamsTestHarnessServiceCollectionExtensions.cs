using Microsoft.Extensions.DependencyInjection.Extensions;
using Streams.Hosting.Internal.Backend;
using Streams.Hosting.Internal.Pipeline;
using Streams.Hosting.Testing;
using Streams.Hosting.Testing.InMemory;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Streams.Hosting test harness.</summary>
public static class RabbitStreamsTestHarnessServiceCollectionExtensions
{
    /// <summary>
    /// Replaces the broker with an in-memory one and adds <see cref="IStreamsTestHarness"/>. The application's
    /// <c>AddRabbitStreams(...)</c> registration runs as it is (declared streams and super streams, consumers,
    /// serializers, consume filters, failure policies, commits, lanes, batches, health checks, telemetry): only what
    /// crosses the wire is in memory, and nothing connects. Call it before or after <c>AddRabbitStreams</c> (e.g. in
    /// <c>WebApplicationFactory.ConfigureServices</c>). Time (chunk timestamps, retry back-off, commit interval) is the
    /// registered <see cref="TimeProvider"/>: register a <c>FakeTimeProvider</c> to drive it.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddRabbitStreamsTestHarness(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<InMemoryBroker>();
        services.TryAddSingleton<InMemoryStreamsBackend>();
        services.RemoveAll<IStreamsBackend>();
        services.AddSingleton<IStreamsBackend>(sp => sp.GetRequiredService<InMemoryStreamsBackend>());
        services.TryAddSingleton<StreamsTestHarness>();
        services.TryAddSingleton<IStreamsTestHarness>(sp => sp.GetRequiredService<StreamsTestHarness>());
        services.RemoveAll<IConsumeObserver>();
        services.AddSingleton<IConsumeObserver>(sp => sp.GetRequiredService<StreamsTestHarness>());
        return services;
    }
}
