namespace Streams.Hosting;

/// <summary>Defaults for every <c>[StreamConsumer]</c> handler (section <c>RabbitStreams:Consumers</c>).</summary>
public sealed class RabbitStreamsConsumerOptions
{
    /// <summary>
    /// A named consumer stores its offset after this many processed messages. Default 10,000 (like the Java client's
    /// automatic tracking and MassTransit's checkpoints: each store appends a tracking chunk to the stream, so storing
    /// per message would be costly). After a crash, at most this many messages, or <see cref="CommitInterval"/> worth,
    /// are handled again; a graceful stop loses nothing.
    /// </summary>
    public int CommitEveryMessages { get; set; } = 10_000;

    /// <summary>
    /// A named consumer stores its offset at least this often while messages are handled. Default 5 seconds.
    /// Offsets are also stored on graceful shutdown, after in-flight handlers finished.
    /// </summary>
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>What happens when a handler throws or a message cannot be deserialized (see <see cref="HandlerFailurePolicy"/>).</summary>
    public HandlerFailurePolicy FailurePolicy { get; set; } = new();

    /// <summary>
    /// Legacy setting, kept for compatibility: when set, it replaces <see cref="RabbitStreamsRecoveryOptions.InitialDelay"/>
    /// (<c>RabbitStreams:Recovery:InitialDelay</c>) for the consumers only, as the first delay of the client's recovery of
    /// a lost connection and of the re-subscribe back-off. Default null: the consumers use <c>RabbitStreams:Recovery</c>
    /// (500 ms first delay). It is no longer a fixed delay added before every re-subscription: a lost connection is
    /// recovered by the client alone, and a subscription that ended for good is subscribed again at once the first time.
    /// </summary>
    public TimeSpan? RecoveryDelay { get; set; }

    /// <summary>
    /// What a consumer does when its stream neither is declared (<c>AddStream</c>/<c>AddSuperStream</c>) nor exists on
    /// the broker. False (default): it faults at once, with an error saying to declare or create the stream, and the
    /// health check is Unhealthy. True: it waits for the stream (polling with the <c>RabbitStreams:Recovery</c>
    /// back-off, each attempt logged), Unhealthy "waiting for stream …" meanwhile, then consumes. A stream deleted under
    /// a running consumer faults it either way. <see cref="StreamConsumerOptions.WaitForStream"/> overrides it per consumer.
    /// </summary>
    public bool WaitForStream { get; set; }

    /// <summary>
    /// False: no consumer subscribes when the host starts; each is <see cref="StreamConsumerState.Paused"/> (reason
    /// <c>"not started"</c>) until <see cref="IStreamConsumerControl.ResumeAsync"/> (or <c>ResumeAllAsync</c>). Default
    /// true. <see cref="StreamConsumerOptions.AutoStart"/> (<c>[StreamConsumer(AutoStart = false)]</c>,
    /// <c>RabbitStreams:Consumers:ByName:{name}:AutoStart</c>) overrides it per consumer.
    /// </summary>
    public bool AutoStart { get; set; } = true;

    /// <summary>Maximum messages given to one <see cref="IStreamBatchHandler{T}"/> call (at most one chunk). Default 500.</summary>
    public int MaxBatchSize { get; set; } = 500;

    /// <summary>
    /// Settings of individual consumers, keyed by consumer name (or, for a consumer without a name, its handler class
    /// name): section <c>RabbitStreams:Consumers:ByName:{key}</c>. They override the attribute; the
    /// <c>AddConsumer&lt;T&gt;(configure)</c> callback runs after them. A key that matches no consumer fails the start.
    /// </summary>
    public IDictionary<string, StreamConsumerSettings> ByName { get; } = new Dictionary<string, StreamConsumerSettings>(StringComparer.OrdinalIgnoreCase);
}
