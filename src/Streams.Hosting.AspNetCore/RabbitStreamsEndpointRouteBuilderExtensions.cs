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
    /// processed and stored offsets, lag and its recent history, rate), each pooled producer and the connection.
    /// Read-only and opt-in; secure it like any diagnostics endpoint (<c>.RequireAuthorization()</c> on the returned
    /// builder). <c>MapRabbitStreamsOperations</c> maps the same document plus the per-consumer detail and the
    /// pause/resume/rewind actions: map one or the other on a pattern, not both.
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

    /// <summary>Builds the status document (see <see cref="RabbitStreamsStatusBuilder.Build"/>).</summary>
    /// <param name="monitor">The consumer monitor.</param>
    /// <param name="diagnostics">The diagnostics.</param>
    /// <returns>The status.</returns>
    public static RabbitStreamsStatus GetStatus(IStreamConsumerMonitor monitor, IRabbitStreamsDiagnostics diagnostics) =>
        RabbitStreamsStatusBuilder.Build(monitor, diagnostics);
}
