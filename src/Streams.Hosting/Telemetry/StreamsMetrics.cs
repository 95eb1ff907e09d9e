using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Streams.Hosting.Telemetry;

/// <summary>The instruments of the <c>Streams.Hosting</c> meter (one per DI container, from <see cref="IMeterFactory"/>).</summary>
internal sealed class StreamsMetrics
{
    private static readonly InstrumentAdvice<double> DurationAdvice = new() { HistogramBucketBoundaries = SemanticConventions.DurationBuckets };

    public StreamsMetrics(IMeterFactory meterFactory, StreamsInstrumentation owner)
    {
        Meter = meterFactory.Create(new MeterOptions(StreamsTelemetry.MeterName)
        {
            Version = StreamsTelemetry.Version,
            TelemetrySchemaUrl = StreamsTelemetry.SchemaUrl,
        });
        SentMessages = Meter.CreateCounter<long>(SemanticConventions.SentMessages, "{message}", "Messages the producer attempted to send (error.type set when the publish failed).");
        // Observable (a cumulative monotonic sum, exported like a counter): no per-message instrument call on the hot path.
        Meter.CreateObservableCounter(SemanticConventions.ConsumedMessages, owner.ObserveConsumed, "{message}", "Messages delivered to the application's handlers.");
        OperationDuration = Meter.CreateHistogram(SemanticConventions.OperationDuration, "s", "Duration of a messaging operation: publish until confirm (send), offset store (settle).", advice: DurationAdvice);
        ProcessDuration = Meter.CreateHistogram(SemanticConventions.ProcessDuration, "s", "Duration of a handler invocation.", advice: DurationAdvice);
        Reconnects = Meter.CreateCounter<long>(SemanticConventions.Reconnects, "{reconnect}", "Subscriptions set up again after a failure, and closed producers replaced.");
        PublishErrors = Meter.CreateCounter<long>(SemanticConventions.PublishErrors, "{message}", "Publishes that failed (timeout, rejection, connection).");
        DeadLettered = Meter.CreateCounter<long>(SemanticConventions.DeadLettered, "{message}", "Messages dead-lettered after their retries.");
        // Observable like consumed: a filtering consumer may drop most of what it reads.
        Meter.CreateObservableCounter(SemanticConventions.Filtered, owner.ObserveFiltered, "{message}", "Messages a filtering consumer read and dropped without calling its handler (their filter value is not one it asked for).");
        Meter.CreateObservableGauge(SemanticConventions.ConsumerLag, owner.ObserveLag, "{message}", "Messages in the stream after the last one the consumer processed.");
        Meter.CreateObservableGauge(SemanticConventions.Paused, owner.ObservePaused, "{consumer}", "1 while the consumer is paused or not started (IStreamConsumerControl, AutoStart off), else 0.");
        Meter.CreateObservableUpDownCounter(SemanticConventions.InFlight, owner.ObserveInFlight, "{message}", "Messages sent by pooled producers and not confirmed yet.");
    }

    public Meter Meter { get; }

    public Counter<long> SentMessages { get; }

    public Histogram<double> OperationDuration { get; }

    public Histogram<double> ProcessDuration { get; }

    public Counter<long> Reconnects { get; }

    public Counter<long> PublishErrors { get; }

    public Counter<long> DeadLettered { get; }

    public static TagList SendTags(string destination, string? partition, string? errorType)
    {
        var tags = new TagList
        {
            { SemanticConventions.MessagingSystem, SemanticConventions.MessagingSystemRabbitMq },
            { SemanticConventions.OperationName, SemanticConventions.OperationSend },
            { SemanticConventions.DestinationName, destination },
        };
        if (partition is not null)
        {
            tags.Add(SemanticConventions.DestinationPartitionId, partition);
        }

        if (errorType is not null)
        {
            tags.Add(SemanticConventions.ErrorType, errorType);
        }

        return tags;
    }
}
