namespace Streams.Hosting;

/// <summary>
/// Handles messages of one stream, one at a time and in offset order. Resolved in a fresh DI scope per message;
/// declare the consumer with <see cref="StreamConsumerAttribute"/>.
/// </summary>
/// <typeparam name="T">
/// The message type: deserialized by the <see cref="IStreamSerializer"/> matching the message's content type
/// (JSON by default); <c>byte[]</c>, <c>ReadOnlyMemory&lt;byte&gt;</c> and <c>string</c> receive the body as is,
/// <see cref="Streams.Client.Message"/> the decoded AMQP message.
/// </typeparam>
public interface IStreamHandler<in T>
{
    /// <summary>Handles one message. Throwing applies the consumer's <see cref="HandlerFailurePolicy"/>.</summary>
    /// <param name="message">The deserialized message.</param>
    /// <param name="context">Where the message comes from: stream, offset, headers, ids.</param>
    /// <param name="cancellationToken">
    /// Signalled only when the host's shutdown timeout (<c>HostOptions.ShutdownTimeout</c>) elapses while the handler
    /// still runs: a graceful stop lets in-flight handlers finish and stores their offset. A handler cancelled this
    /// way has its message handled again after a restart.
    /// </param>
    Task HandleAsync(T message, StreamContext context, CancellationToken cancellationToken);
}

/// <summary>
/// Handles messages of one stream in batches (up to one chunk, at most <see cref="RabbitStreamsConsumerOptions.MaxBatchSize"/>).
/// The offset of the last message is committed once the whole batch succeeded; a failure retries the whole batch,
/// then applies the failure policy to every message of it.
/// </summary>
/// <typeparam name="T">The message type (see <see cref="IStreamHandler{T}"/>).</typeparam>
public interface IStreamBatchHandler<T>
{
    /// <summary>Handles a batch of messages, in offset order.</summary>
    /// <param name="messages">The messages with their contexts.</param>
    /// <param name="cancellationToken">Signalled when the host's shutdown timeout elapses (see <see cref="IStreamHandler{T}"/>).</param>
    Task HandleAsync(IReadOnlyList<StreamMessage<T>> messages, CancellationToken cancellationToken);
}

/// <summary>A deserialized message and where it comes from (an item of an <see cref="IStreamBatchHandler{T}"/> batch).</summary>
/// <typeparam name="T">The message type.</typeparam>
/// <param name="Message">The deserialized message.</param>
/// <param name="Context">Its stream, offset, headers and ids.</param>
public readonly record struct StreamMessage<T>(T Message, StreamContext Context);
