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
        if (StreamContext.IdToString(message.Properties?.MessageId) is { } messageId)
        {
            tags.Add(SemanticConventions.MessageId, messageId);
        }

        if (StreamContext.IdToString(message.Properties?.CorrelationId) is { } correlationId)
        {
            tags.Add(SemanticConventions.ConversationId, correlationId);
        }

        return Source.StartActivity(SemanticConventions.OperationSend + " " + destination, ActivityKind.Producer, default(ActivityContext), tags);
    }

    /// <summary>
    /// Starts a <c>process</c> span. The consumer's constant attributes (<paramref name="spanTags"/>, one array per
    /// consumer) are given at creation so that samplers see them; the per-message ones are set only when the span is
    /// recorded, so a span a sampler drops costs no more than the bare activity. <paramref name="producer"/> is the
    /// trace context the message carries, if any (<see cref="TraceContext.TryExtract"/>).
    /// </summary>
    public static Activity? StartProcess(string spanName, KeyValuePair<string, object?>[] spanTags, StreamContext context, ProcessSpanRelation relation, ActivityContext? producer)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        ActivityLink[]? links = null;
        var parent = default(ActivityContext);
        if (producer is { } producerContext)
        {
            links = [new ActivityLink(producerContext)];
            if (relation == ProcessSpanRelation.Parent)
            {
                parent = producerContext;
            }
        }

        var activity = Source.StartActivity(ActivityKind.Consumer, parent, spanTags, links, default, spanName);
        if (activity is { IsAllDataRequested: true })
        {
            // AddTag appends without looking for an existing key: these keys are not among the consumer's tags.
            activity.AddTag(SemanticConventions.StreamOffset, (long)context.Offset);
            if (context.MessageId is { } messageId)
            {
                activity.AddTag(SemanticConventions.MessageId, messageId);
            }

            if (context.CorrelationId is { } correlationId)
            {
                activity.AddTag(SemanticConventions.ConversationId, correlationId);
            }

            if (context.Attempt > 1)
            {
                activity.AddTag(SemanticConventions.DeliveryAttempt, context.Attempt);
            }
        }

        return activity;
    }

    /// <summary>The constant attributes of one consumer's <c>process</c> spans.</summary>
    public static KeyValuePair<string, object?>[] ProcessSpanTags(string stream, string? partition, string? consumerName)
    {
        var tags = ConsumerTags(stream, partition, consumerName, SemanticConventions.OperationProcess);
        var array = new KeyValuePair<string, object?>[tags.Count];
        tags.CopyTo(array);
        return array;
    }

    /// <summary>Starts the one <c>process</c> span of a batch, linked to <paramref name="links"/> (the messages' producer contexts).</summary>
    public static Activity? StartProcessBatch(IReadOnlyList<(object? Message, StreamContext Context)> items, List<ActivityLink>? links)
    {
        if (!Source.HasListeners() || items.Count == 0)
        {
            return null;
        }

        var first = items[0].Context;
        var tags = ConsumerTags(first.Stream, first.Partition, first.ConsumerName, SemanticConventions.OperationProcess);
        tags.Add(SemanticConventions.BatchMessageCount, items.Count);
        tags.Add(SemanticConventions.StreamOffset, (long)first.Offset);
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
}
