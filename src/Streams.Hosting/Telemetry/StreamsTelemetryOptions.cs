namespace Streams.Hosting;

/// <summary>How a <c>process</c> span relates to the <c>send</c> span whose trace context travelled with the message.</summary>
public enum ProcessSpanRelation
{
    /// <summary>
    /// The process span starts a new trace (or continues the ambient one) and carries a link to the producer's
    /// context: the OpenTelemetry messaging conventions' default, since publishing and processing are decoupled in time.
    /// </summary>
    Link,

    /// <summary>
    /// The process span is a child of the producer's context (and still links to it): one trace from the HTTP request
    /// through the broker into the handler. Long-retained streams re-read later produce very long traces.
    /// </summary>
    Parent,
}

/// <summary>Trace and metric options of Streams.Hosting (configure with <c>ConfigureTelemetry</c> on the streams builder).</summary>
public sealed class StreamsTelemetryOptions
{
    /// <summary>
    /// Whether publishing writes the W3C <c>traceparent</c>/<c>tracestate</c> of the send span (or of the ambient
    /// activity when nobody listens to Streams.Hosting) into the message's application properties. Default true.
    /// </summary>
    public bool PropagateTraceContext { get; set; } = true;

    /// <summary>How a process span relates to the producer's context. Default <see cref="ProcessSpanRelation.Link"/>.</summary>
    public ProcessSpanRelation ProcessSpanRelation { get; set; } = ProcessSpanRelation.Link;

    /// <summary>
    /// How often the lag of each hosted consumer is measured from the stream's statistics (one request per consumer
    /// per interval). <see cref="TimeSpan.Zero"/> turns lag measurement off. Default 10 seconds.
    /// </summary>
    public TimeSpan LagSamplingInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How many lag measurements each consumer keeps (<see cref="StreamConsumerDiagnostics.LagHistory"/>, the dashboard's
    /// lag chart and rate): at the default interval 60 cover ten minutes. At least 1. Default 60.
    /// </summary>
    public int LagHistoryLength { get; set; } = 60;
}
