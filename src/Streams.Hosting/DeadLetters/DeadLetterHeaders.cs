namespace Streams.Hosting;

/// <summary>
/// The application properties of dead letters and of replayed messages. A consumer's failure policy
/// (<see cref="FailureAction.DeadLetter"/>) writes the failed message to the dead-letter stream as it was read, with the
/// <c>x-exception-*</c>, <c>x-original-*</c>, <see cref="DeliveryAttempts"/>, <see cref="FailedAt"/> and
/// <see cref="ConsumerName"/> properties added; <see cref="IStreamDeadLetterReplayer"/> removes those again when it
/// sends the message back, and adds <see cref="ReplayCount"/>, <see cref="ReplayedFromStream"/> and
/// <see cref="ReplayedFromOffset"/>.
/// </summary>
public static class DeadLetterHeaders
{
    /// <summary>The full name of the exception type of the last attempt (string).</summary>
    public const string ExceptionType = "x-exception-type";

    /// <summary>The exception message of the last attempt, at most 4096 characters (string).</summary>
    public const string ExceptionMessage = "x-exception-message";

    /// <summary>The stream the message was consumed from: the replay's default target (string).</summary>
    public const string OriginalStream = "x-original-stream";

    /// <summary>The offset of the message in <see cref="OriginalStream"/> (long).</summary>
    public const string OriginalOffset = "x-original-offset";

    /// <summary>How many times the handler was called for the message (int).</summary>
    public const string DeliveryAttempts = "x-delivery-attempts";

    /// <summary>When the message was dead-lettered (timestamp).</summary>
    public const string FailedAt = "x-failed-at";

    /// <summary>The consumer name (offset tracking reference) of the failing consumer, when it has one (string).</summary>
    public const string ConsumerName = "x-consumer-name";

    /// <summary>How many times the message was replayed from a dead-letter stream: 1 after the first replay (int).</summary>
    public const string ReplayCount = "x-replay-count";

    /// <summary>The dead-letter stream a replayed message was read from (string).</summary>
    public const string ReplayedFromStream = "x-replayed-from-stream";

    /// <summary>The offset of the dead letter in <see cref="ReplayedFromStream"/> (long).</summary>
    public const string ReplayedFromOffset = "x-replayed-from-offset";

    /// <summary>The properties the failure policy adds to a dead letter, which a replay removes.</summary>
    public static IReadOnlyList<string> FailureHeaders { get; } =
        [ExceptionType, ExceptionMessage, OriginalStream, OriginalOffset, DeliveryAttempts, FailedAt, ConsumerName];
}
