using Streams.Hosting;

namespace OpenTelemetry.Metrics;

/// <summary>Streams.Hosting metrics for OpenTelemetry.</summary>
public static class RabbitStreamsMeterProviderBuilderExtensions
{
    /// <summary>
    /// Subscribes to the Streams.Hosting meter (<see cref="StreamsTelemetry.MeterName"/>): the messaging metrics
    /// (<c>messaging.client.sent.messages</c>, <c>messaging.client.consumed.messages</c>,
    /// <c>messaging.client.operation.duration</c>, <c>messaging.process.duration</c>, with the conventions' bucket
    /// advice) and the <c>rabbitmq.stream.*</c> extras (consumer lag, reconnects, publish errors, in-flight, dead-lettered).
    /// </summary>
    /// <param name="builder">The meter provider builder.</param>
    /// <returns>The builder.</returns>
    public static MeterProviderBuilder AddRabbitStreamsInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeter(StreamsTelemetry.MeterName);
    }
}
