using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Streams.Hosting.AspNetCore.Operations;

/// <summary>The handlers of the operations endpoints (also mapped by the dashboard under its own prefix).</summary>
internal static class OperationsEndpoints
{
    /// <summary>The query parameter of the rewind target.</summary>
    public const string RewindTargetParameter = "to";

    public static void Map(IEndpointRouteBuilder group)
    {
        group.MapGet(string.Empty, static (HttpContext context) => Results.Json(Status(context)));
        group.MapGet("/consumers/{name}", static (string name, HttpContext context) => Detail(context, name));
        group.MapPost("/consumers/{name}/pause", static (string name, HttpContext context) =>
            ActAsync(context, name, StatusCodes.Status200OK, static (control, name, ct) => control.PauseAsync(name, ct)));
        group.MapPost("/consumers/{name}/resume", static (string name, HttpContext context) =>
            ActAsync(context, name, StatusCodes.Status200OK, static (control, name, ct) => control.ResumeAsync(name, ct)));
        group.MapPost("/consumers/{name}/rewind", static (string name, HttpContext context) => RewindAsync(context, name));
        group.MapPost("/pause", static async (HttpContext context) =>
        {
            await Control(context).PauseAllAsync(context.RequestAborted).ConfigureAwait(false);
            return Results.Json(Status(context));
        });
        group.MapPost("/resume", static async (HttpContext context) =>
        {
            await Control(context).ResumeAllAsync(context.RequestAborted).ConfigureAwait(false);
            return Results.Json(Status(context));
        });
    }

    private static RabbitStreamsStatus Status(HttpContext context) =>
        RabbitStreamsStatusBuilder.Build(Monitor(context), Diagnostics(context));

    private static IResult Detail(HttpContext context, string name) =>
        RabbitStreamsStatusBuilder.BuildDetail(Monitor(context), Diagnostics(context), name) is { } detail
            ? Results.Json(detail)
            : NotFound(new StreamConsumerNotFoundException(name, RabbitStreamsStatusBuilder.KnownNames(Monitor(context))));

    private static async Task<IResult> RewindAsync(HttpContext context, string name)
    {
        var to = context.Request.Query[RewindTargetParameter].ToString();
        if (to.Length == 0)
        {
            return Results.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "Missing rewind target",
                detail: $"Say where to rewind with the '{RewindTargetParameter}' query parameter: ?{RewindTargetParameter}=first, last, offset:<number> or timestamp:<ISO 8601>.");
        }

        StreamRewindTarget target;
        try
        {
            target = StreamRewindTarget.Parse(to);
        }
        catch (FormatException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid rewind target", detail: ex.Message);
        }

        return await ActAsync(context, name, StatusCodes.Status202Accepted, (control, n, ct) => control.RewindAsync(n, target, ct)).ConfigureAwait(false);
    }

    private static async Task<IResult> ActAsync(HttpContext context, string name, int status, Func<IStreamConsumerControl, string, CancellationToken, Task> action)
    {
        try
        {
            await action(Control(context), name, context.RequestAborted).ConfigureAwait(false);
        }
        catch (StreamConsumerNotFoundException ex)
        {
            return NotFound(ex);
        }

        var detail = RabbitStreamsStatusBuilder.BuildDetail(Monitor(context), Diagnostics(context), name);
        return Results.Json(detail, statusCode: status);
    }

    private static IResult NotFound(StreamConsumerNotFoundException ex) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown consumer", detail: ex.Message);

    private static IStreamConsumerMonitor Monitor(HttpContext context) => context.RequestServices.GetRequiredService<IStreamConsumerMonitor>();

    private static IRabbitStreamsDiagnostics Diagnostics(HttpContext context) => context.RequestServices.GetRequiredService<IRabbitStreamsDiagnostics>();

    private static IStreamConsumerControl Control(HttpContext context) => context.RequestServices.GetRequiredService<IStreamConsumerControl>();
}
