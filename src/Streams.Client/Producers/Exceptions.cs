namespace Streams.Client;

/// <summary>A sub-entry batch uses a compression for which no <see cref="ICompressionCodec"/> is registered.</summary>
public sealed class UnsupportedCompressionException : StreamClientException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="compression">The compression without codec.</param>
    public UnsupportedCompressionException(CompressionType compression)
        : base(MessageFor(compression))
        => Compression = compression;

    /// <summary>The compression without codec.</summary>
    public CompressionType Compression { get; }

    private static string MessageFor(CompressionType compression) => compression is CompressionType.Snappy or CompressionType.Lz4 or CompressionType.Zstd
        ? $"No codec is registered for compression {compression} ({(byte)compression}) on this StreamSystem: add the {CompressionCodecRegistry.CompressionPackage} package and call "
            + "StreamSystemOptions.AddAllCompressionCodecs() (hosting: IRabbitStreamsBuilder.AddCompressionCodecs(StreamCompressionCodecs.All)), or register an ICompressionCodec with StreamSystemOptions.AddCompressionCodec."
        : $"No codec is registered for compression {compression} ({(byte)compression}) on this StreamSystem: register an ICompressionCodec with StreamSystemOptions.AddCompressionCodec.";
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

/// <summary>
/// A delivered chunk failed validation: bad magic, unknown chunk type, truncated data, a CRC mismatch, a header that
/// disagrees with the data (entry or record counts, trailing bytes), or a malformed sub-entry batch (record count,
/// sizes, a declared uncompressed size above <see cref="ConsumerOptions.MaxSubEntryUncompressedSize"/>, data its codec
/// cannot decompress to exactly the declared size). The message names the stream and the chunk id; a codec's own
/// exception is the <see cref="Exception.InnerException"/>. The consumer stops with this exception.
/// </summary>
public sealed class ChunkFormatException : StreamClientException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="chunkId">The chunk id, when known.</param>
    public ChunkFormatException(string message, ulong? chunkId = null)
        : base(message) => ChunkId = chunkId;

    /// <summary>Creates the exception for a chunk of <paramref name="stream"/>, with its cause.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="chunkId">The chunk id, when known.</param>
    /// <param name="stream">The stream the chunk was read from, when known.</param>
    /// <param name="innerException">The cause (e.g. the codec's exception), if any.</param>
    public ChunkFormatException(string message, ulong? chunkId, string? stream, Exception? innerException = null)
        : base(message, innerException!)
    {
        ChunkId = chunkId;
        Stream = stream;
    }

    /// <summary>The chunk id, when the header could be read.</summary>
    public ulong? ChunkId { get; }

    /// <summary>The stream the chunk was read from, when known.</summary>
    public string? Stream { get; }
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
