using Microsoft.Extensions.Diagnostics.HealthChecks;
using Streams.Hosting;
using Streams.Hosting.Health;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the RabbitMQ Streams health check.</summary>
public static class RabbitStreamsHealthChecksBuilderExtensions
{
    /// <summary>The default registration name: <c>rabbitmq-streams</c>.</summary>
    public const string DefaultName = "rabbitmq-streams";

    /// <summary>
    /// Adds a check of the connection, the hosted consumers and the publisher: Unhealthy while not connected yet
    /// ("connecting …" with the last error), when connecting gave up or the declared streams could not be created,
    /// while a consumer waits for its stream, when a consumer stopped by policy (or an
    /// unrecoverable error), or a consumer has been without its subscription (or publishing has been failing with
    /// timeouts or connection errors) past <see cref="RabbitStreamsHealthCheckOptions.ConnectionGracePeriod"/>;
    /// Degraded within the grace period or while a consumer lags above <see cref="RabbitStreamsHealthCheckOptions.LagThreshold"/>.
    /// Needs <c>AddRabbitStreams</c>.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="configure">Adjusts the thresholds.</param>
    /// <param name="name">The registration name.</param>
    /// <param name="failureStatus">The status reported instead of Unhealthy (null: Unhealthy).</param>
    /// <param name="tags">Tags to filter checks by (e.g. <c>ready</c>).</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddRabbitStreams(
        this IHealthChecksBuilder builder,
        Action<RabbitStreamsHealthCheckOptions>? configure = null,
        string name = DefaultName,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var options = new RabbitStreamsHealthCheckOptions();
        configure?.Invoke(options);
        if (options.ConnectionGracePeriod < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(configure), options.ConnectionGracePeriod, "ConnectionGracePeriod must not be negative.");
        }

        if (options.LagThreshold < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(configure), options.LagThreshold, "LagThreshold must not be negative.");
        }

        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new RabbitStreamsHealthCheck(
                sp.GetRequiredService<IStreamConsumerMonitor>(),
                sp.GetRequiredService<IRabbitStreamsDiagnostics>(),
                options,
                sp.GetService<TimeProvider>() ?? TimeProvider.System,
                sp.GetService<Streams.Hosting.Internal.Backend.IStreamsBackend>(),
                sp.GetService<Streams.Hosting.Internal.StreamTopologyInitializer>()),
            failureStatus,
            tags));
    }
}
