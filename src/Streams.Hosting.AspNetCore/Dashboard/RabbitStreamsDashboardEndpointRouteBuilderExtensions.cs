using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Streams.Hosting;
using Streams.Hosting.AspNetCore;
using Streams.Hosting.AspNetCore.Dashboard;
using Streams.Hosting.AspNetCore.Operations;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Streams.Hosting live dashboard.</summary>
public static class RabbitStreamsDashboardEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps a live dashboard page at <c>GET {pattern}</c>: consumers (state, partition, last processed and stored
    /// offsets, lag with a chart of its recent history, rate) with pause/resume/rewind buttons, the pooled producers
    /// (in flight, confirm latency, errors) and the connection. The page is rendered on the server (readable without
    /// JavaScript) and then polls every <see cref="RabbitStreamsDashboardOptions.RefreshInterval"/>; its stylesheet and
    /// script are embedded in this assembly (<c>{pattern}/assets/…</c>, no CDN). It maps its own copy of the
    /// operations endpoints under <c>{pattern}/api</c> (see <c>MapRabbitStreamsOperations</c>), so one group carries
    /// the page and the actions it calls.
    /// <para>
    /// <b>Security: the dashboard can pause and rewind consumers. Never expose it unauthenticated</b>: put an
    /// authorization policy on the returned group (<c>.RequireAuthorization("operators")</c>); it covers the page, its
    /// assets and its actions. The page sends a Content-Security-Policy that allows only its own script, styles and
    /// endpoints.
    /// </para>
    /// </summary>
    /// <param name="endpoints">The route builder (the <c>WebApplication</c>).</param>
    /// <param name="pattern">The route of the page, <c>/streams/ui</c> by default.</param>
    /// <param name="configure">Sets the options (refresh interval).</param>
    /// <returns>The dashboard's group (page, assets, actions): add authorization to it.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The refresh interval is shorter than <see cref="RabbitStreamsDashboardOptions.MinimumRefreshInterval"/>.</exception>
    public static RouteGroupBuilder MapRabbitStreamsDashboard(this IEndpointRouteBuilder endpoints, string pattern = "/streams/ui", Action<RabbitStreamsDashboardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        var options = new RabbitStreamsDashboardOptions();
        configure?.Invoke(options);
        if (options.RefreshInterval < RabbitStreamsDashboardOptions.MinimumRefreshInterval)
        {
            throw new ArgumentOutOfRangeException(
                nameof(configure),
                options.RefreshInterval,
                $"RabbitStreamsDashboardOptions.RefreshInterval must be at least {RabbitStreamsDashboardOptions.MinimumRefreshInterval.TotalMilliseconds} ms.");
        }

        var refresh = options.RefreshInterval;
        var group = endpoints.MapGroup(pattern);
        group.MapGet(string.Empty, (HttpContext context) =>
        {
            var services = context.RequestServices;
            var status = RabbitStreamsStatusBuilder.Build(services.GetRequiredService<IStreamConsumerMonitor>(), services.GetRequiredService<IRabbitStreamsDiagnostics>());
            var basePath = (context.Request.PathBase + context.Request.Path).Value!.TrimEnd('/');
            var time = services.GetService<TimeProvider>() ?? TimeProvider.System;
            SetSecurityHeaders(context.Response);
            return Results.Content(DashboardPage.Render(status, basePath, refresh, time.GetUtcNow()), "text/html; charset=utf-8");
        });
        group.MapGet("/assets/{file}", static (string file, HttpContext context) =>
        {
            if (!DashboardAssets.Served.TryGetValue(file, out var asset))
            {
                return Results.NotFound();
            }

            context.Response.Headers.CacheControl = "no-cache";
            context.Response.Headers.XContentTypeOptions = "nosniff";
            return Results.Bytes(asset.Content, asset.ContentType);
        });
        OperationsEndpoints.Map(group.MapGroup("/api"));
        return group;
    }

    private static void SetSecurityHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy =
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.CacheControl = "no-store";
    }
}
