using Streams.Hosting;

namespace OpenTelemetry.Trace;

/// <summary>Streams.Hosting traces for OpenTelemetry.</summary>
public static class RabbitStreamsTracerProviderBuilderExtensions
{
    /// <summary>
    /// Subscribes to the <c>send</c>, <c>process</c> and <c>settle</c> spans of Streams.Hosting
    /// (<see cref="StreamsTelemetry.ActivitySourceName"/>). Process spans link to the producer's context by default;
    /// make them children with <c>ConfigureTelemetry(o =&gt; o.ProcessSpanRelation = ProcessSpanRelation.Parent)</c>.
    /// </summary>
    /// <param name="builder">The tracer provider builder.</param>
    /// <returns>The builder.</returns>
    public static TracerProviderBuilder AddRabbitStreamsInstrumentation(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddSource(StreamsTelemetry.ActivitySourceName);
    }
}
