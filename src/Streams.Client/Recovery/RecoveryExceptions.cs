namespace Streams.Client;

/// <summary>The stream was deleted: the producer or consumer ended for good (no recovery is attempted).</summary>
public sealed class StreamDeletedException : StreamClientException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="stream">The deleted stream.</param>
    /// <param name="publishingId">The publishing id of the affected message, for a producer's pending message.</param>
    public StreamDeletedException(string? stream, ulong? publishingId = null)
        : base(publishingId is { } id
            ? $"The stream{(stream is null ? string.Empty : $" '{stream}'")} was deleted before the message with publishing id {id} was confirmed."
            : $"The stream{(stream is null ? string.Empty : $" '{stream}'")} was deleted.")
    {
        Stream = stream;
        PublishingId = publishingId;
    }

    /// <summary>The deleted stream, when known.</summary>
    public string? Stream { get; }

    /// <summary>The publishing id of the affected message, if any.</summary>
    public ulong? PublishingId { get; }
}

/// <summary>
/// An unnamed producer (no deduplication) lost its connection before the broker confirmed this message. Whether it was
/// stored is unknown, so it is not re-sent: re-send it yourself if duplicates are acceptable, or name the producer.
/// </summary>
public sealed class ProducerRecoveryException : StreamClientException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="publishingId">The publishing id of the message.</param>
    /// <param name="stream">The stream.</param>
    public ProducerRecoveryException(ulong publishingId, string? stream = null)
        : base($"The connection of the producer{(stream is null ? string.Empty : $" on stream '{stream}'")} was lost before the message with publishing id {publishingId} was confirmed; it may or may not be stored. Name the producer (ProducerOptions.Name) to have unconfirmed messages re-sent with deduplication.")
    {
        PublishingId = publishingId;
    }

    /// <summary>The publishing id of the message.</summary>
    public ulong PublishingId { get; }
}

/// <summary>Recovery gave up: <see cref="RecoveryPolicy.MaxAttempts"/> attempts failed, or a failure cannot be retried.</summary>
public sealed class RecoveryFailedException : StreamClientException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="attempts">The attempts made.</param>
    /// <param name="innerException">The last failure.</param>
    public RecoveryFailedException(string stream, int attempts, Exception? innerException)
        : base($"Recovery on stream '{stream}' gave up after {attempts} attempt(s): {innerException?.Message ?? "no reason"}", innerException!)
    {
        Stream = stream;
        Attempts = attempts;
    }

    /// <summary>The stream.</summary>
    public string Stream { get; }

    /// <summary>The attempts made.</summary>
    public int Attempts { get; }
}
