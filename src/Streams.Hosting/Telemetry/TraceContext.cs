using System.Diagnostics;
using Streams.Client;

namespace Streams.Hosting.Telemetry;

/// <summary>W3C trace context (<c>traceparent</c>, <c>tracestate</c>) carried in a message's application properties.</summary>
internal static class TraceContext
{
    public static void Inject(Activity activity, Message message)
    {
        if (activity.IdFormat != ActivityIdFormat.W3C || activity.Id is not { } traceParent)
        {
            return;
        }

        var properties = message.ApplicationProperties ??= new Dictionary<string, object?>(StringComparer.Ordinal);
        if (properties.IsReadOnly)
        {
            // E.g. the decoded properties of a consumed message published again.
            properties = message.ApplicationProperties = new Dictionary<string, object?>(properties, StringComparer.Ordinal);
        }

        properties[SemanticConventions.TraceParent] = traceParent;
        if (activity.TraceStateString is { Length: > 0 } traceState)
        {
            properties[SemanticConventions.TraceState] = traceState;
        }
        else
        {
            properties.Remove(SemanticConventions.TraceState);
        }
    }

    public static bool TryExtract(IDictionary<string, object?>? properties, out ActivityContext context)
    {
        if (properties is not null
            && properties.TryGetValue(SemanticConventions.TraceParent, out var parent)
            && parent is string traceParent)
        {
            var traceState = properties.TryGetValue(SemanticConventions.TraceState, out var state) ? state as string : null;
            return ActivityContext.TryParse(traceParent, traceState, isRemote: true, out context);
        }

        context = default;
        return false;
    }
}
