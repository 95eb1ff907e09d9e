namespace Streams.Client;

/// <summary>A sub-entry batch uses a compression for which no <see cref="ICompressionCodec"/> is registered.</summary>
public sealed class UnsupportedCompressionException : StreamClientException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="compression">The compression without codec.</param>
    public UnsupportedCompressionException(CompressionType compression)
        : base($"No codec is registered for compression {compression} ({(byte)compression}). Register one with CompressionCodecs.Register.")
        => Compression = compression;

    /// <summary>The compression without codec.</summary>
    public CompressionType Compression { get; }
}

/// <summary>The broker rejected a published message (PublishError).</summary>
public sealed class PublishException : StreamClientException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="publishingId">The publishing id of the rejected message.</param>
    /// <param name="code">The broker's code.</param>
    public PublishException(ulong publishingId, ResponseCode code)
        : base($"The broker rejected the message with publishing id {publishingId}: {code} (0x{(ushort)code:x2}).")
    {
        PublishingId = publishingId;
        Code = code;
    }

    /// <summary>The publishing id of the rejected message.</summary>
    public ulong PublishingId { get; }

    /// <summary>The broker's code.</summary>
    public ResponseCode Code { get; }
}

/// <summary>No confirmation arrived for a message within <c>ProducerOptions.ConfirmTimeout</c>.</summary>
public sealed class ConfirmationTimeoutException : StreamClientException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="publishingId">The publishing id of the unconfirmed message.</param>
    /// <param name="timeout">The timeout that expired; <see cref="TimeSpan.Zero"/> when the caller does not know it.</param>
    public ConfirmationTimeoutException(ulong publishingId, TimeSpan timeout)
        : base(timeout > TimeSpan.Zero
            ? $"The message with publishing id {publishingId} was not confirmed within {timeout.TotalSeconds:0.###} s (ProducerOptions.ConfirmTimeout)."
            : $"The message with publishing id {publishingId} was not confirmed within the producer's confirm timeout (ProducerOptions.ConfirmTimeout).")
    {
        PublishingId = publishingId;
        Timeout = timeout;
    }

    /// <summary>The publishing id of the unconfirmed message.</summary>
    public ulong PublishingId { get; }

    /// <summary>The timeout that expired.</summary>
    public TimeSpan Timeout { get; }
}

/// <summary>A chunk failed validation: bad magic, truncated data or a CRC mismatch.</summary>
public sealed class ChunkFormatException : StreamClientException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="chunkId">The chunk id, when known.</param>
    public ChunkFormatException(string message, ulong? chunkId = null)
        : base(message) => ChunkId = chunkId;

    /// <summary>The chunk id, when the header could be read.</summary>
    public ulong? ChunkId { get; }
}

/// <summary>The producer was closed before the message was confirmed, or a send was attempted on a closed producer.</summary>
public sealed class ProducerClosedException : StreamClientException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="publishingId">The publishing id of the unconfirmed message, if any.</param>
    /// <param name="code">The code that closed the producer (e.g. <see cref="ResponseCode.StreamNotAvailable"/>), or <see cref="ResponseCode.Ok"/> for a normal close.</param>
    /// <param name="reason">Why the producer closed.</param>
    public ProducerClosedException(ulong? publishingId, ResponseCode code, string? reason = null)
        : base(reason ?? (publishingId is { } id
            ? $"The producer closed before the message with publishing id {id} was confirmed ({code})."
            : $"The producer is closed ({code})."))
    {
        PublishingId = publishingId;
        Code = code;
    }

    /// <summary>The publishing id of the unconfirmed message, if any.</summary>
    public ulong? PublishingId { get; }

    /// <summary>The code that closed the producer.</summary>
    public ResponseCode Code { get; }
}
