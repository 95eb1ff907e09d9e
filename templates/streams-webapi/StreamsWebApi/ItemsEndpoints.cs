using Microsoft.Extensions.Options;
using Streams.Hosting;

namespace StreamsWebApi;

/// <summary>The body of <c>POST /items</c>.</summary>
public sealed record SubmitItem(string? Id, string? Text);

/// <summary>The event published to the stream (JSON).</summary>
public sealed record ItemSubmitted(string Id, string Text, DateTimeOffset SubmittedAt);

public static class ItemsEndpoints
{
    /// <summary>
    /// <c>POST /items</c>: validates the body, publishes an <see cref="ItemSubmitted"/> event and answers 202 once the
    /// broker confirmed it is stored (400 for an invalid body, 503 when the broker did not take it).
    /// </summary>
    public static IEndpointRouteBuilder MapItems(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/items", SubmitAsync);
        return endpoints;
    }

    private static async Task<IResult> SubmitAsync(SubmitItem item, IStreamPublisher publisher, IOptions<ItemsOptions> options,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(item.Id))
        {
            errors["id"] = ["An id is required."];
        }

        if (string.IsNullOrWhiteSpace(item.Text))
        {
            errors["text"] = ["A text is required."];
        }

        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors);
        }

        try
        {
            await publisher.PublishAsync(options.Value.Stream, new ItemSubmitted(item.Id!, item.Text!, time.GetUtcNow()), cancellationToken);
        }
        catch (StreamPublishException e)
        {
            return Results.Problem(e.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return Results.Accepted();
    }
}
