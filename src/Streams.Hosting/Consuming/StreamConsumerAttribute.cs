namespace Streams.Hosting;

/// <summary>
/// Marks a class implementing <see cref="IStreamHandler{T}"/> or <see cref="IStreamBatchHandler{T}"/> as a stream
/// consumer started by the host.
/// </summary>
/// <example>
/// <code>
/// [StreamConsumer("orders", Offset = StreamOffset.First, Name = "billing")]
/// public sealed class BillingHandler : IStreamHandler&lt;OrderPlaced&gt; { ... }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class StreamConsumerAttribute : Attribute
{
    /// <summary>Consumes <paramref name="stream"/>.</summary>
    /// <param name="stream">The stream (or super stream when <see cref="SuperStream"/> is set).</param>
    public StreamConsumerAttribute(string stream)
    {
        Stream = stream;
    }

    /// <summary>The stream (or super stream) to consume.</summary>
    public string Stream { get; }

    /// <summary>
    /// The consumer name: the offset-tracking reference (and the single-active-consumer group). A named consumer
    /// resumes after its last stored offset; without a name nothing is stored and every start begins at <see cref="Offset"/>.
    /// </summary>
    public string? Name { get; set; }

    /// <summary>Where to start when nothing is stored for <see cref="Name"/>. Default <see cref="StreamOffset.First"/>.</summary>
    public StreamOffset Offset { get; set; } = StreamOffset.First;

    /// <summary>Only one instance of the application (per <see cref="Name"/>) consumes at a time; requires <see cref="Name"/>.</summary>
    public bool SingleActiveConsumer { get; set; }

    /// <summary><see cref="Stream"/> is a super stream: one subscription per partition.</summary>
    public bool SuperStream { get; set; }

    /// <summary>
    /// Handler invocations in flight at once (1 = strictly in offset order, the default). Above 1, messages with the
    /// same AMQP <c>group-id</c> (see <see cref="PublishOptions.RoutingKey"/>) are still handled in order, one at a time;
    /// messages without one are handled in any order. The stored offset never passes an unfinished message.
    /// <see cref="IStreamHandler{T}"/> only.
    /// </summary>
    public int MaxConcurrency { get; set; } = 1;

    /// <summary>
    /// False: the consumer does not subscribe when the host starts and stays <see cref="StreamConsumerState.Paused"/>
    /// (reason <c>"not started"</c>) until <see cref="IStreamConsumerControl.ResumeAsync"/>. Default true (or
    /// <c>RabbitStreams:Consumers:AutoStart</c>). Requires <see cref="Name"/>.
    /// </summary>
    public bool AutoStart { get; set; } = true;
}
