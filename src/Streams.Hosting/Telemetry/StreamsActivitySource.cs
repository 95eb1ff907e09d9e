using System.Diagnostics;
using Streams.Client;

namespace Streams.Hosting.Telemetry;

/// <summary>The spans: <c>send {stream}</c> (producer), <c>process {stream}</c> (consumer), <c>settle {stream}</c> (offset store).</summary>
internal static class StreamsActivitySource
{
    public static readonly ActivitySource Source = new(new ActivitySourceOptions(StreamsTelemetry.ActivitySourceName)
    {
        Version = StreamsTelemetry.Version,
        TelemetrySchemaUrl = StreamsTelemetry.SchemaUrl,
    });

    public static Activity? StartSend(string destination, Message message)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var tags = new TagList
        {
            { SemanticConventions.MessagingSystem, SemanticConventions.MessagingSystemRabbitMq },
            { SemanticConventions.OperationName, SemanticConventions.OperationSend },
            { SemanticConventions.OperationType, SemanticConventions.OperationSend },
            { SemanticConventions.DestinationName, destination },
        };
        if (IdToString(message.Properties?.MessageId) is { } messageId)
        {
            tags.Add(SemanticConventions.MessageId, messageId);
        }

        if (IdToString(message.Properties?.CorrelationId) is { } correlationId)
        {
            tags.Add(SemanticConventions.ConversationId, correlationId);
        }

        return Source.StartActivity(SemanticConventions.OperationSend + " " + destination, ActivityKind.Producer, default(ActivityContext), tags);
    }

    public static Activity? StartProcess(string spanName, StreamContext context, ProcessSpanRelation relation)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var tags = ConsumerTags(context.Stream, context.Partition, context.ConsumerName, SemanticConventions.OperationProcess);
        tags.Add(SemanticConventions.StreamOffset, (long)context.Offset);
        if (context.MessageId is { } messageId)
        {
            tags.Add(SemanticConventions.MessageId, messageId);
        }

        if (context.CorrelationId is { } correlationId)
        {
            tags.Add(SemanticConventions.ConversationId, correlationId);
        }

        if (context.Attempt > 1)
        {
            tags.Add(SemanticConventions.DeliveryAttempt, context.Attempt);
        }

        ActivityLink[]? links = null;
        var parent = default(ActivityContext);
        if (TraceContext.TryExtract(context.RawMessage?.ApplicationProperties, out var producer))
        {
            links = [new ActivityLink(producer)];
            if (relation == ProcessSpanRelation.Parent)
            {
                parent = producer;
            }
        }

        return Source.StartActivity(spanName, ActivityKind.Consumer, parent, tags, links);
    }

    public static Activity? StartProcessBatch(IReadOnlyList<(object? Message, StreamContext Context)> items)
    {
        if (!Source.HasListeners() || items.Count == 0)
        {
            return null;
        }

        var first = items[0].Context;
        var tags = ConsumerTags(first.Stream, first.Partition, first.ConsumerName, SemanticConventions.OperationProcess);
        tags.Add(SemanticConventions.BatchMessageCount, items.Count);
        tags.Add(SemanticConventions.StreamOffset, (long)first.Offset);
        List<ActivityLink>? links = null;
        foreach (var item in items)
        {
            if (TraceContext.TryExtract(item.Context.RawMessage?.ApplicationProperties, out var producer))
            {
                (links ??= []).Add(new ActivityLink(producer));
            }
        }

        return Source.StartActivity(SemanticConventions.OperationProcess + " " + first.Stream, ActivityKind.Consumer, default(ActivityContext), tags, links);
    }

    public static Activity? StartSettle(string stream, string? partition, string consumerName, ulong offset)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var tags = ConsumerTags(stream, partition, consumerName, SemanticConventions.OperationSettle);
        tags.Add(SemanticConventions.StreamOffset, (long)offset);
        return Source.StartActivity(SemanticConventions.OperationSettle + " " + stream, ActivityKind.Client, default(ActivityContext), tags);
    }

    public static void SetError(Activity? activity, Exception error)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, error.Message);
        activity.SetTag(SemanticConventions.ErrorType, ErrorType(error));
        activity.AddException(error);
    }

    public static string ErrorType(Exception error) => error.GetType().FullName ?? error.GetType().Name;

    private static TagList ConsumerTags(string stream, string? partition, string? consumerName, string operation)
    {
        var tags = new TagList
        {
            { SemanticConventions.MessagingSystem, SemanticConventions.MessagingSystemRabbitMq },
            { SemanticConventions.OperationName, operation },
            { SemanticConventions.OperationType, operation },
            { SemanticConventions.DestinationName, stream },
        };
        if (partition is not null)
        {
            tags.Add(SemanticConventions.DestinationPartitionId, partition);
        }

        if (consumerName is not null)
        {
            tags.Add(SemanticConventions.ConsumerGroupName, consumerName);
        }

        return tags;
    }

    private static string? IdToString(object? id) => id switch
    {
        null => null,
        string s => s,
        byte[] bytes => Convert.ToHexString(bytes),
        IFormattable formattable => formattable.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => id.ToString(),
    };
}
