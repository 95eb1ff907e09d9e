using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Streams.Hosting.Telemetry;

namespace Streams.Hosting;

/// <summary>Telemetry options on the streams builder.</summary>
public static class RabbitStreamsTelemetryExtensions
{
    /// <summary>
    /// Configures traces and metrics (trace-context propagation, which messages are traced and how process spans relate
    /// to the producer's context, lag sampling). Telemetry is always emitted to <see cref="StreamsTelemetry.ActivitySourceName"/> and
    /// <see cref="StreamsTelemetry.MeterName"/>; it costs a flag check per message while nothing listens.
    /// </summary>
    /// <param name="builder">The streams builder.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The builder.</returns>
    public static IRabbitStreamsBuilder ConfigureTelemetry(this IRabbitStreamsBuilder builder, Action<StreamsTelemetryOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return builder;
    }

    internal static void AddTelemetry(IServiceCollection services)
    {
        services.AddMetrics();
        services.AddOptions<StreamsTelemetryOptions>()
            .Validate(o => o.LagSamplingInterval >= TimeSpan.Zero, "StreamsTelemetryOptions.LagSamplingInterval must not be negative.")
            .Validate(o => Enum.IsDefined(o.ProcessSpanRelation), "StreamsTelemetryOptions.ProcessSpanRelation is not a valid value.")
            .Validate(o => Enum.IsDefined(o.ProcessTracing), "StreamsTelemetryOptions.ProcessTracing must be All, Sampled or None.")
            .Validate(o => o.ProcessSamplingRatio is >= 0 and <= 1, "StreamsTelemetryOptions.ProcessSamplingRatio must be between 0 and 1.")
            .ValidateOnStart();
        services.TryAddSingleton<StreamsInstrumentation>();
        services.TryAddSingleton<IRabbitStreamsDiagnostics>(sp => sp.GetRequiredService<StreamsInstrumentation>());
        services.TryAddSingleton<ConsumerLagSampler>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ConsumerLagSampler>(sp => sp.GetRequiredService<ConsumerLagSampler>()));
    }
}
