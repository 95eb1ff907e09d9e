using Streams.Client;

namespace Streams.Hosting.Testing;

/// <summary>
/// The test side of <c>AddRabbitStreamsTestHarness()</c>: publish, see what was published, consumed, faulted and
/// dead-lettered, read stored offsets, and wait for each of them. The awaiters complete as soon as the condition
/// holds (signalled by the pipeline, no polling); a condition that already holds completes at once. Their timeout
/// runs on real time (not the host's <see cref="TimeProvider"/>, which a test may have replaced by a fake one) and
/// throws <see cref="TimeoutException"/> saying what was seen.
/// </summary>
public interface IStreamsTestHarness
{
    /// <summary>Publishes through the application's <see cref="IStreamPublisher"/> (its serializer, routing and options).</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="stream">The stream, or the super stream (with <see cref="PublishOptions.RoutingKey"/>).</param>
    /// <param name="message">The message.</param>
    /// <param name="options">Publish options (routing key, filter value, headers, deduplication id...).</param>
    /// <param name="cancellationToken">Cancels the publish.</param>
    Task PublishAsync<T>(string stream, T message, PublishOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Messages of type <typeparamref name="T"/> published through <see cref="IStreamPublisher"/> (this harness's included), in order.</summary>
    /// <typeparam name="T">The message type (a base type or interface matches its implementations).</typeparam>
    IReadOnlyList<PublishedMessage<T>> Published<T>();

    /// <summary>Messages of type <typeparamref name="T"/> a handler completed (or a consume filter short-circuited), in order of completion.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    IReadOnlyList<ConsumedMessage<T>> Consumed<T>();

    /// <summary>Messages for handlers of <typeparamref name="T"/> that failed their last attempt (or could not be read) and went to the failure policy.</summary>
    /// <typeparam name="T">The handler's message type.</typeparam>
    IReadOnlyList<FaultedMessage<T>> Faulted<T>();

    /// <summary>The dead letters written for messages read from <paramref name="stream"/> (a stream, or a super stream's partition), in order.</summary>
    /// <param name="stream">The stream the failed messages were read from (not the dead-letter stream).</param>
    IReadOnlyList<DeadLetter> DeadLettered(string stream);

    /// <summary>The offset stored for consumer <paramref name="consumerName"/> on <paramref name="stream"/>; null when none.</summary>
    /// <param name="stream">The stream (for a super stream: a partition).</param>
    /// <param name="consumerName">The consumer name (offset-tracking reference).</param>
    ulong? StoredOffset(string stream, string consumerName);

    /// <summary>The messages stored in <paramref name="stream"/> (any stream, dead-letter streams included), decoded, in offset order.</summary>
    /// <param name="stream">The stream.</param>
    /// <exception cref="StreamDoesNotExistException">The stream does not exist.</exception>
    IReadOnlyList<StoredMessage> Read(string stream);

    /// <summary>Waits for a consumed <typeparamref name="T"/> matching <paramref name="predicate"/> (any when null).</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="predicate">The condition on the message.</param>
    /// <param name="timeout">How long to wait (default 10 s).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    Task<ConsumedMessage<T>> WaitForConsumedAsync<T>(Func<T, bool>? predicate = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>Waits for a faulted message of a <typeparamref name="T"/> handler matching <paramref name="predicate"/> (any when null).</summary>
    /// <typeparam name="T">The handler's message type.</typeparam>
    /// <param name="predicate">The condition on the fault.</param>
    /// <param name="timeout">How long to wait (default 10 s).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    Task<FaultedMessage<T>> WaitForFaultedAsync<T>(Func<FaultedMessage<T>, bool>? predicate = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>Waits for a dead letter of a message read from <paramref name="stream"/> matching <paramref name="predicate"/> (any when null).</summary>
    /// <param name="stream">The stream the failed message was read from.</param>
    /// <param name="predicate">The condition on the dead letter.</param>
    /// <param name="timeout">How long to wait (default 10 s).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    Task<DeadLetter> WaitForDeadLetteredAsync(string stream, Func<DeadLetter, bool>? predicate = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>Waits until the offset stored for <paramref name="consumerName"/> on <paramref name="stream"/> is at least <paramref name="offset"/>.</summary>
    /// <param name="stream">The stream (for a super stream: a partition).</param>
    /// <param name="consumerName">The consumer name.</param>
    /// <param name="offset">The offset to reach.</param>
    /// <param name="timeout">How long to wait (default 10 s).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    Task WaitForStoredOffsetAsync(string stream, string consumerName, ulong offset, TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds a partition to a super stream while the host runs (creating its stream), as binding a stream to the super
    /// stream's exchange with the next <c>x-stream-partition-order</c> does on the broker. Hosted consumers and
    /// <see cref="IStreamPublisher"/> follow it on their next partition refresh
    /// (<c>RabbitStreams:SuperStreams:PartitionRefreshInterval</c>, on the host's <see cref="TimeProvider"/>).
    /// </summary>
    /// <param name="superStream">The super stream.</param>
    /// <param name="partition">The new partition's stream.</param>
    /// <param name="bindingKey">Its binding key (key routing).</param>
    /// <exception cref="StreamDoesNotExistException">The super stream does not exist.</exception>
    /// <exception cref="ArgumentException">The stream is a partition already.</exception>
    void AddPartition(string superStream, string partition, string bindingKey);

    /// <summary>
    /// Unbinds a partition from a super stream while the host runs (its stream and messages stay): on the next
    /// partition refresh its hosted consumers stop (storing their offsets) and <see cref="IStreamPublisher"/> no longer
    /// routes to it.
    /// </summary>
    /// <param name="superStream">The super stream.</param>
    /// <param name="partition">The partition's stream.</param>
    /// <exception cref="StreamDoesNotExistException">The super stream does not exist.</exception>
    /// <exception cref="ArgumentException">The stream is not one of its partitions.</exception>
    /// <exception cref="InvalidOperationException">It is the last partition.</exception>
    void RemovePartition(string superStream, string partition);
}

/// <summary>A message published through <see cref="IStreamPublisher"/>.</summary>
/// <typeparam name="T">The message type.</typeparam>
/// <param name="Stream">The stream (or super stream) it was published to.</param>
/// <param name="Message">The message.</param>
/// <param name="Options">Its publish options.</param>
public sealed record PublishedMessage<T>(string Stream, T Message, PublishOptions? Options);

/// <summary>A message a handler completed.</summary>
/// <typeparam name="T">The message type.</typeparam>
/// <param name="Message">The deserialized message.</param>
/// <param name="Context">Its context (stream, partition, offset, attempt, headers...).</param>
/// <param name="HandlerType">The handler class.</param>
public sealed record ConsumedMessage<T>(T Message, StreamContext Context, Type HandlerType);

/// <summary>A message that failed its last attempt and went to the failure policy (skipped, dead-lettered, or the consumer stopped).</summary>
/// <typeparam name="T">The handler's message type.</typeparam>
/// <param name="Message">The deserialized message; default when it could not be read (<see cref="Attempts"/> 0).</param>
/// <param name="Stream">The stream (or partition) it was read from.</param>
/// <param name="Offset">Its offset.</param>
/// <param name="Exception">The last attempt's error (a <see cref="StreamMessageFormatException"/> when it could not be read).</param>
/// <param name="Attempts">Invocations made (0: the message could not be read).</param>
/// <param name="HandlerType">The handler class.</param>
public sealed record FaultedMessage<T>(T? Message, string Stream, ulong Offset, Exception Exception, int Attempts, Type HandlerType);

/// <summary>A dead letter: the failed message as written to its dead-letter stream, with the <c>x-*</c> headers.</summary>
/// <param name="SourceStream">The stream (or partition) the message was read from.</param>
/// <param name="DeadLetterStream">The dead-letter stream it was written to.</param>
/// <param name="Message">The AMQP message written (body, properties and the <c>x-*</c> application properties).</param>
public sealed record DeadLetter(string SourceStream, string DeadLetterStream, Message Message)
{
    /// <summary>The application properties (<c>x-exception-type</c>, <c>x-exception-message</c>, <c>x-original-stream</c>, <c>x-original-offset</c>, <c>x-delivery-attempts</c>, <c>x-failed-at</c>, <c>x-consumer-name</c> and the message's own).</summary>
    public IReadOnlyDictionary<string, object?> Headers => Message.ApplicationProperties is { } headers
        ? new Dictionary<string, object?>(headers, StringComparer.Ordinal)
        : new Dictionary<string, object?>(StringComparer.Ordinal);
}

/// <summary>A message stored in an in-memory stream.</summary>
/// <param name="Offset">Its offset.</param>
/// <param name="Timestamp">When its chunk was written (the host's <see cref="TimeProvider"/>).</param>
/// <param name="FilterValue">Its filter value (<see cref="PublishOptions.FilterValue"/>), if any.</param>
/// <param name="Message">The decoded message.</param>
public sealed record StoredMessage(ulong Offset, DateTimeOffset Timestamp, string? FilterValue, Message Message);
