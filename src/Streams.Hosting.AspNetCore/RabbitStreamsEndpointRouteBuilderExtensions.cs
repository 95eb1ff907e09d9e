using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Streams.Hosting;
using Streams.Hosting.AspNetCore;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Streams.Hosting status endpoint.</summary>
public static class RabbitStreamsEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <c>GET {pattern}</c> to a JSON <see cref="RabbitStreamsStatus"/>: each consumer (stream, name, state, last
    /// processed and stored offsets, lag) and each pooled producer. Opt-in; secure it like any diagnostics endpoint
    /// (<c>.RequireAuthorization()</c> on the returned builder).
    /// </summary>
    /// <param name="endpoints">The route builder (the <c>WebApplication</c>).</param>
    /// <param name="pattern">The route, <c>/streams</c> by default.</param>
    /// <returns>The endpoint's convention builder.</returns>
    public static IEndpointConventionBuilder MapRabbitStreams(this IEndpointRouteBuilder endpoints, string pattern = "/streams")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        return endpoints.MapGet(pattern, static (HttpContext context) =>
        {
            var services = context.RequestServices;
            return Results.Json(GetStatus(services.GetRequiredService<IStreamConsumerMonitor>(), services.GetRequiredService<IRabbitStreamsDiagnostics>()));
        }).WithName("RabbitStreamsStatus");
    }

    /// <summary>Builds the status document.</summary>
    /// <param name="monitor">The consumer monitor.</param>
    /// <param name="diagnostics">The diagnostics.</param>
    /// <returns>The status.</returns>
    public static RabbitStreamsStatus GetStatus(IStreamConsumerMonitor monitor, IRabbitStreamsDiagnostics diagnostics)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        ArgumentNullException.ThrowIfNull(diagnostics);
        var consumers = monitor.GetConsumers().Select(c =>
        {
            var d = diagnostics.GetConsumer(c);
            return new RabbitStreamsConsumerStatus(
                c.HandlerType.FullName ?? c.HandlerType.Name,
                c.Stream,
                c.Partition,
                c.Name,
                c.State.ToString(),
                d?.StateSince,
                c.IsActive,
                c.LastProcessedOffset,
                c.LastStoredOffset,
                d?.Lag,
                d?.LagMeasuredAt,
                c.HandledCount,
                c.FailedCount,
                d?.Recoveries,
                c.LastError?.Message);
        }).ToArray();
        return new RabbitStreamsStatus(consumers, diagnostics.GetProducers());
    }
}
