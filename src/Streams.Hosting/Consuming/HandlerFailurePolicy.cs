namespace Streams.Hosting;

/// <summary>What a consumer does with a message once its handler failed and the retries are exhausted.</summary>
public enum FailureAction
{
    /// <summary>
    /// Publish the original message bytes to the dead-letter stream (<see cref="HandlerFailurePolicy.DeadLetterStream"/>)
    /// with the error in application properties (<c>x-exception-type</c>, <c>x-exception-message</c>,
    /// <c>x-original-stream</c>, <c>x-original-offset</c>, <c>x-consumer-name</c>, <c>x-failed-at</c>), wait for
    /// its confirm, then move on. If the dead-letter publish fails the consumer stops (nothing is dropped).
    /// </summary>
    DeadLetter,

    /// <summary>Log the failure at error level (stream, offset, consumer, exception), count it, and move on.</summary>
    Skip,

    /// <summary>
    /// Stop the consumer: it handles nothing more until the application restarts, its offset stays at the last
    /// successful message (the failed one is handled again after a restart), the failure is logged and visible in
    /// <see cref="IStreamConsumerMonitor"/>. Other consumers keep running.
    /// </summary>
    Stop,
}

/// <summary>How retries are spaced.</summary>
public enum RetryBackoff
{
    /// <summary>Every retry waits <see cref="HandlerFailurePolicy.RetryDelay"/>.</summary>
    Constant,

    /// <summary>Retry n waits n × <see cref="HandlerFailurePolicy.RetryDelay"/>.</summary>
    Linear,

    /// <summary>Retry n waits 2^(n-1) × <see cref="HandlerFailurePolicy.RetryDelay"/>.</summary>
    Exponential,
}

/// <summary>
/// What a consumer does when its handler throws (or a message cannot be deserialized). Streams are ordered and
/// a message cannot be "nacked" back, so the consumer retries the same message in place (later messages wait),
/// then applies <see cref="AfterRetries"/>.
/// </summary>
/// <remarks>
/// <para>
/// Default: 3 retries with exponential back-off from 200 ms (200, 400, 800 ms, capped by <see cref="MaxRetryDelay"/>),
/// then <see cref="FailureAction.DeadLetter"/> to <c>{stream}.dlq</c>. That matches what MassTransit users expect
/// (retry, then the message moves to an error queue and the consumer keeps going) while never dropping a message:
/// a message leaves the main flow only once its dead-letter copy is confirmed.
/// </para>
/// <para>
/// Deserialization failures are not retried (they are deterministic); they go straight to <see cref="AfterRetries"/>.
/// Cancellation by the host's shutdown is not a failure: the message is not committed and is handled again after
/// a restart.
/// </para>
/// </remarks>
public sealed class HandlerFailurePolicy
{
    /// <summary>The default name of the dead-letter stream: the consumed stream followed by <c>.dlq</c>.</summary>
    public const string DefaultDeadLetterStream = "{stream}.dlq";

    /// <summary>How many times a failed handler is invoked again for the same message (0 = no retry). Default 3.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>The base delay between retries. Default 200 ms.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How the retry delay grows. Default <see cref="RetryBackoff.Exponential"/>.</summary>
    public RetryBackoff Backoff { get; set; } = RetryBackoff.Exponential;

    /// <summary>The longest delay between two retries. Default 30 seconds.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>What happens after the last retry failed. Default <see cref="FailureAction.DeadLetter"/>.</summary>
    public FailureAction AfterRetries { get; set; } = FailureAction.DeadLetter;

    /// <summary>
    /// The dead-letter stream; <c>{stream}</c> is replaced by the consumed stream (the partition for super streams).
    /// Default <c>{stream}.dlq</c>.
    /// </summary>
    public string DeadLetterStream { get; set; } = DefaultDeadLetterStream;

    /// <summary>Create the dead-letter stream (exists-ok, broker default arguments) before the first dead letter. Default true.</summary>
    public bool CreateDeadLetterStream { get; set; } = true;

    /// <summary>The delay before retry number <paramref name="retry"/> (1-based).</summary>
    /// <param name="retry">The retry number, starting at 1.</param>
    public TimeSpan GetRetryDelay(int retry)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        double factor = Backoff switch
        {
            RetryBackoff.Constant => 1,
            RetryBackoff.Linear => retry,
            _ => Math.Pow(2, Math.Min(retry - 1, 30)),
        };
        double ticks = RetryDelay.Ticks * factor;
        return ticks >= MaxRetryDelay.Ticks ? MaxRetryDelay : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>The dead-letter stream for messages from <paramref name="stream"/>.</summary>
    /// <param name="stream">The consumed stream (or partition).</param>
    public string GetDeadLetterStream(string stream)
    {
        ArgumentException.ThrowIfNullOrEmpty(stream);
        return DeadLetterStream.Replace("{stream}", stream, StringComparison.Ordinal);
    }

    /// <summary>A copy of this policy.</summary>
    public HandlerFailurePolicy Clone() => (HandlerFailurePolicy)MemberwiseClone();

    /// <inheritdoc />
    public override string ToString() =>
        $"retry {MaxRetries}× ({Backoff}, {RetryDelay.TotalMilliseconds} ms, max {MaxRetryDelay.TotalMilliseconds} ms) then {AfterRetries}" +
        (AfterRetries == FailureAction.DeadLetter ? $" to '{DeadLetterStream}'" : string.Empty);
}
