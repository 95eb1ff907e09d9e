namespace Streams.Hosting;

/// <summary>
/// Publishes messages to streams through a pool of producers (one per stream, created on first use, shared by
/// concurrent callers, whose messages are batched into shared Publish frames). Singleton, thread-safe.
/// </summary>
public interface IStreamPublisher
{
    /// <summary>
    /// Serializes <paramref name="message"/> and publishes it to <paramref name="stream"/>; completes when the broker
    /// confirms that the message is stored.
    /// </summary>
    /// <typeparam name="T">
    /// The message type: <c>byte[]</c>, <c>ReadOnlyMemory&lt;byte&gt;</c> and <c>string</c> are sent as is,
    /// a <see cref="Streams.Client.Message"/> as built (<paramref name="options"/> are applied to it in place),
    /// anything else with the default <see cref="IStreamSerializer"/> (JSON).
    /// </typeparam>
    /// <param name="stream">The stream.</param>
    /// <param name="message">The message.</param>
    /// <param name="options">Message id, correlation id, headers, filter value, deduplication id.</param>
    /// <param name="cancellationToken">Stops waiting (the message may still be stored).</param>
    /// <exception cref="StreamPublishException">The broker rejected the message, the producer could not be created, or the stream does not exist.</exception>
    /// <exception cref="StreamPublishTimeoutException">No confirm within <see cref="RabbitStreamsPublishingOptions.Timeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ArgumentException"><see cref="PublishOptions.FilterValue"/> is set while <see cref="RabbitStreamsPublishingOptions.SubEntrySize"/> is above 1 (sub-entry batches carry no filter values).</exception>
    Task PublishAsync<T>(string stream, T message, PublishOptions? options = null, CancellationToken cancellationToken = default);
}

/// <summary>Conveniences for <see cref="IStreamPublisher"/>.</summary>
public static class StreamPublisherExtensions
{
    /// <summary>Publishes <paramref name="message"/> with default options; completes on the broker's confirm.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="publisher">The publisher.</param>
    /// <param name="stream">The stream.</param>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public static Task PublishAsync<T>(this IStreamPublisher publisher, string stream, T message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(publisher);
        return publisher.PublishAsync(stream, message, null, cancellationToken);
    }
}
