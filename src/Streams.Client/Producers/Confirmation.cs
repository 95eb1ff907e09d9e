namespace Streams.Client;

/// <summary>The outcome of one published message (or sub-entry batch).</summary>
public enum ConfirmationStatus
{
    /// <summary>The broker stored the message (or, for a deduplicated publishing id, already had it).</summary>
    Confirmed,
    /// <summary>The broker rejected the message (PublishError); see <see cref="Confirmation.Code"/>.</summary>
    Rejected,
    /// <summary>No confirmation arrived within the confirm timeout.</summary>
    TimedOut,
    /// <summary>The producer was closed (disposed, connection lost or stream unavailable) before a confirmation arrived.</summary>
    ProducerClosed,
    /// <summary>
    /// An unnamed producer lost its connection after writing the message and before its confirmation: whether it was
    /// stored is unknown, so it is not re-sent (<see cref="ProducerRecoveryException"/>). The producer recovers.
    /// </summary>
    ConnectionLost,
    /// <summary>The stream was deleted before the confirmation (<see cref="StreamDeletedException"/>); the producer closed.</summary>
    StreamDeleted,
}

/// <summary>The confirmation of one message sent with <see cref="Producer.Send(ReadOnlyMemory{byte}, Action{Confirmation}, CancellationToken)"/>.</summary>
/// <param name="PublishingId">The publishing id of the message.</param>
/// <param name="Status">The outcome.</param>
/// <param name="Code">The broker's code: <see cref="ResponseCode.Ok"/> when confirmed, the PublishError or MetadataUpdate code otherwise.</param>
public readonly record struct Confirmation(ulong PublishingId, ConfirmationStatus Status, ResponseCode Code)
{
    /// <summary>Whether the message was confirmed.</summary>
    public bool IsConfirmed => Status == ConfirmationStatus.Confirmed;

    /// <summary>The exception describing a failed outcome, or <see langword="null"/> when confirmed.</summary>
    /// <param name="confirmTimeout">
    /// The timeout to report for <see cref="ConfirmationStatus.TimedOut"/> (the producer's
    /// <see cref="ProducerOptions.ConfirmTimeout"/>); when omitted the message names the option instead of a duration.
    /// </param>
    public StreamClientException? ToException(TimeSpan confirmTimeout = default) => Status switch
    {
        ConfirmationStatus.Confirmed => null,
        ConfirmationStatus.Rejected => new PublishException(PublishingId, Code),
        ConfirmationStatus.TimedOut => new ConfirmationTimeoutException(PublishingId, confirmTimeout),
        ConfirmationStatus.ConnectionLost => new ProducerRecoveryException(PublishingId),
        ConfirmationStatus.StreamDeleted => new StreamDeletedException(null, PublishingId),
        _ => new ProducerClosedException(PublishingId, Code),
    };
}
