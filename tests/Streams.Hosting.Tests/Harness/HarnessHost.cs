using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Hosting.Testing;
using Streams.Hosting.Tests.Integration;

namespace Streams.Hosting.Tests.Harness;

/// <summary>A host on the in-memory harness: the application's registration as it is, no broker.</summary>
internal static class HarnessHost
{
    public static IHost Build(Action<IRabbitStreamsBuilder> configure, Action<RabbitStreamsOptions>? options = null, Probe? probe = null, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddLogging();
        builder.Services.AddSingleton(probe ?? new Probe());
        services?.Invoke(builder.Services);
        configure(builder.Services.AddRabbitStreams(o => options?.Invoke(o)));
        builder.Services.AddRabbitStreamsTestHarness();
        return builder.Build();
    }

    public static IStreamsTestHarness Harness(this IHost host) => host.Services.GetRequiredService<IStreamsTestHarness>();
}
