using Microsoft.AspNetCore.Routing;
using Streams.Hosting.AspNetCore.Operations;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Streams.Hosting operations endpoints: status, per-consumer detail, pause, resume and rewind.</summary>
public static class RabbitStreamsOperationsEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the operations endpoints under <paramref name="pattern"/> and returns their group:
    /// <list type="table">
    /// <item><term><c>GET {pattern}</c></term><description>the <see cref="Streams.Hosting.AspNetCore.RabbitStreamsStatus"/> of <c>MapRabbitStreams</c> (consumers, producers, connection).</description></item>
    /// <item><term><c>GET {pattern}/consumers/{name}</c></term><description>every consumer with that name (one per partition), 404 when none.</description></item>
    /// <item><term><c>POST {pattern}/consumers/{name}/pause</c></term><description>pauses it (200 with its detail once its in-flight handlers finished and the offset is stored).</description></item>
    /// <item><term><c>POST {pattern}/consumers/{name}/resume</c></term><description>resumes it (200 with its detail).</description></item>
    /// <item><term><c>POST {pattern}/consumers/{name}/rewind?to=…</c></term><description>rewinds it: <c>to</c> is <c>first</c>, <c>last</c>, <c>offset:N</c> (or <c>N</c>) or <c>timestamp:ISO-8601</c>; 202 with its detail once the offset is stored (the subscription restarts in the background), 400 with a problem-details body when <c>to</c> is missing or malformed.</description></item>
    /// <item><term><c>POST {pattern}/pause</c>, <c>POST {pattern}/resume</c></term><description>every named consumer (200 with the status).</description></item>
    /// </list>
    /// An unknown consumer name answers 404 with a problem-details body listing the known names.
    /// <para>
    /// <b>Security: these endpoints stop and replay message processing. Never expose them unauthenticated</b>: put an
    /// authorization policy on the returned group (<c>.RequireAuthorization("operators")</c>), and keep them off public
    /// networks. With cookie authentication add antiforgery protection as well (a cross-site form can post to them).
    /// Map this instead of <c>MapRabbitStreams</c> on the same pattern (both map <c>GET {pattern}</c>).
    /// </para>
    /// </summary>
    /// <param name="endpoints">The route builder (the <c>WebApplication</c>).</param>
    /// <param name="pattern">The route prefix, <c>/streams</c> by default.</param>
    /// <returns>The endpoints' group: add authorization (and any other convention) to it.</returns>
    public static RouteGroupBuilder MapRabbitStreamsOperations(this IEndpointRouteBuilder endpoints, string pattern = "/streams")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        var group = endpoints.MapGroup(pattern);
        OperationsEndpoints.Map(group);
        return group;
    }
}
