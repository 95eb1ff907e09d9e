using System.Reflection;

namespace Streams.Hosting;

/// <summary>
/// The names under which Streams.Hosting emits traces and metrics, and the OpenTelemetry semantic-conventions version
/// they follow. Subscribe with <c>AddSource(StreamsTelemetry.ActivitySourceName)</c> and
/// <c>AddMeter(StreamsTelemetry.MeterName)</c> (or <c>AddRabbitStreamsInstrumentation()</c> from Streams.Hosting.OpenTelemetry).
/// </summary>
public static class StreamsTelemetry
{
    /// <summary>The <see cref="System.Diagnostics.ActivitySource"/> name: <c>Streams.Hosting</c>.</summary>
    public const string ActivitySourceName = "Streams.Hosting";

    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> name: <c>Streams.Hosting</c>.</summary>
    public const string MeterName = "Streams.Hosting";

    /// <summary>The version of the OpenTelemetry semantic conventions the spans and metrics follow.</summary>
    public const string SemanticConventionsVersion = "1.36.0";

    /// <summary>The schema URL of <see cref="SemanticConventionsVersion"/>.</summary>
    public const string SchemaUrl = "https://opentelemetry.io/schemas/" + SemanticConventionsVersion;

    /// <summary>The version of the instrumentation (the Streams.Hosting assembly's informational version).</summary>
    public static string Version { get; } =
        typeof(StreamsTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(StreamsTelemetry).Assembly.GetName().Version?.ToString()
        ?? "0.0.0";
}

/// <summary>Attribute names and values of the messaging semantic conventions (pinned to <see cref="StreamsTelemetry.SemanticConventionsVersion"/>).</summary>
internal static class SemanticConventions
{
    public const string MessagingSystem = "messaging.system";
    public const string MessagingSystemRabbitMq = "rabbitmq";
    public const string OperationName = "messaging.operation.name";
    public const string OperationType = "messaging.operation.type";
    public const string DestinationName = "messaging.destination.name";
    public const string DestinationPartitionId = "messaging.destination.partition.id";
    public const string ConsumerGroupName = "messaging.consumer.group.name";
    public const string MessageId = "messaging.message.id";
    public const string ConversationId = "messaging.message.conversation_id";
    public const string BatchMessageCount = "messaging.batch.message_count";
    public const string ErrorType = "error.type";
    public const string ServerAddress = "server.address";

    public const string OperationSend = "send";
    public const string OperationProcess = "process";
    public const string OperationSettle = "settle";

    // Metrics (messaging conventions).
    public const string SentMessages = "messaging.client.sent.messages";
    public const string ConsumedMessages = "messaging.client.consumed.messages";
    public const string OperationDuration = "messaging.client.operation.duration";
    public const string ProcessDuration = "messaging.process.duration";

    /// <summary>The conventions' explicit bucket advice for messaging durations (seconds).</summary>
    public static readonly IReadOnlyList<double> DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    // Vendor extras (RabbitMQ streams).
    public const string StreamOffset = "messaging.rabbitmq.stream.offset";
    public const string DeliveryAttempt = "messaging.rabbitmq.stream.delivery_attempt";
    public const string ConnectionRole = "rabbitmq.stream.connection.role";
    public const string ConsumerLag = "rabbitmq.stream.consumer.lag";
    public const string Reconnects = "rabbitmq.stream.reconnects";
    public const string PublishErrors = "rabbitmq.stream.publish.errors";
    public const string InFlight = "rabbitmq.stream.producer.in_flight";
    public const string DeadLettered = "rabbitmq.stream.consumer.dead_lettered";
    public const string Filtered = "rabbitmq.stream.consumer.filtered";
    public const string Paused = "rabbitmq.stream.consumer.paused";

    // W3C trace context carried in application properties.
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";
}
