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

/// <summary>Which messages get a <c>process</c> span (<see cref="StreamsTelemetryOptions.ProcessTracing"/>).</summary>
public enum ProcessTracing
{
    /// <summary>
    /// Every message (every batch for batch handlers) starts a span; the OpenTelemetry sampler configured on the
    /// tracer provider then decides whether it is recorded. A span the sampler drops may still cost an
    /// <see cref="System.Diagnostics.Activity"/> (the SDK keeps one for context propagation).
    /// </summary>
    All,

    /// <summary>
    /// The decision is taken before any <see cref="System.Diagnostics.Activity"/> exists: a message whose W3C trace
    /// context says sampled is traced, one whose context says not sampled is not, and one without a trace context is
    /// traced with the probability <see cref="StreamsTelemetryOptions.ProcessSamplingRatio"/>. A batch is traced when any
    /// of its messages says sampled, or else with that probability. Nothing is allocated for a message not traced.
    /// </summary>
    Sampled,

    /// <summary>No process spans (metrics, logs and trace-context propagation on publish are unaffected).</summary>
    None,
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
    /// Which messages get a <c>process</c> span: <see cref="ProcessTracing.All"/> (default: the tracer provider's sampler
    /// decides), <see cref="ProcessTracing.Sampled"/> (decided before starting one, from the message's W3C sampled flag
    /// or <see cref="ProcessSamplingRatio"/>: the affordable choice at high rates), or <see cref="ProcessTracing.None"/>.
    /// </summary>
    public ProcessTracing ProcessTracing { get; set; } = ProcessTracing.All;

    /// <summary>
    /// With <see cref="ProcessTracing.Sampled"/>, the probability (0 to 1) that a message without a trace context
    /// (or a batch without a sampled message) is traced. Default 1: only what producers marked not sampled is
    /// skipped. Set, for example, 0.01 to trace 1% of the messages that arrive without a context.
    /// </summary>
    public double ProcessSamplingRatio { get; set; } = 1.0;

    /// <summary>
    /// How often the lag of each hosted consumer is measured from the stream's statistics (one request per consumer
    /// per interval). <see cref="TimeSpan.Zero"/> turns lag measurement off. Default 10 seconds.
    /// </summary>
    public TimeSpan LagSamplingInterval { get; set; } = TimeSpan.FromSeconds(10);
}
