using Streams.Client;

namespace Streams.Hosting.Internal.Backend;

/// <summary>
/// What the hosting layer asks of a broker: the seam between the hosted pipeline (consumers, publisher, dead letters,
/// topology, offsets, health) and RabbitMQ. Production runs over the client (<see cref="ClientStreamsBackend"/>);
/// <c>Streams.Hosting.Testing</c> runs the same pipeline over an in-memory broker. Errors are the client's typed
/// exceptions (<see cref="StreamDoesNotExistException"/>, <see cref="StreamAlreadyExistsWithDifferentArgumentsException"/>...)
/// so that every caller handles both backends alike.
/// </summary>
internal interface IStreamsBackend
{
    /// <summary>Where the connection stands (health checks, publish errors).</summary>
    ConnectionPhase Phase { get; }

    /// <summary>The last failed attempt's error (connecting), or why it gave up (faulted).</summary>
    Exception? LastError { get; }

    /// <summary>Connection attempts made so far.</summary>
    int Attempts { get; }

    /// <summary>When connecting started.</summary>
    DateTimeOffset ConnectingSince { get; }

    /// <summary>The endpoints, for messages (never with credentials).</summary>
    string Endpoints { get; }

    /// <summary>
    /// The host's start: true when connected, false when connecting goes on in the background
    /// (<see cref="RabbitStreamsStartBehavior.ConnectInBackground"/>); throws for what retrying cannot fix.
    /// </summary>
    Task<bool> StartAsync(RabbitStreamsStartBehavior behavior, CancellationToken cancellationToken);

    /// <summary>Waits until connected; throws when the connection gave up.</summary>
    ValueTask WaitConnectedAsync(CancellationToken cancellationToken);

    /// <summary>Creates a stream; false when it exists with the same arguments.</summary>
    Task<bool> CreateStreamAsync(string name, StreamSpec? spec, CancellationToken cancellationToken);

    /// <summary>Creates a super stream with partitions <c>{name}-0</c>…; false when it exists.</summary>
    Task<bool> CreateSuperStreamAsync(string name, int partitions, StreamSpec? spec, CancellationToken cancellationToken);

    /// <summary>Creates a super stream with the given partitions and binding keys; false when it exists.</summary>
    Task<bool> CreateSuperStreamAsync(string name, IReadOnlyList<string> partitions, IReadOnlyList<string> bindingKeys, StreamSpec? spec, CancellationToken cancellationToken);

    /// <summary>Whether a stream exists.</summary>
    Task<bool> StreamExistsAsync(string name, CancellationToken cancellationToken);

    /// <summary>The partitions of a super stream, in order (empty when it does not exist).</summary>
    Task<IReadOnlyList<string>> QueryPartitionsAsync(string superStream, CancellationToken cancellationToken);

    /// <summary>The partitions bound to a routing key (empty when none).</summary>
    Task<IReadOnlyList<string>> QueryRouteAsync(string routingKey, string superStream, CancellationToken cancellationToken);

    /// <summary>The offset stored for <paramref name="reference"/> on <paramref name="stream"/>, null when none.</summary>
    Task<ulong?> QueryOffsetAsync(string reference, string stream, CancellationToken cancellationToken);

    /// <summary>Stores an offset for <paramref name="reference"/> on <paramref name="stream"/>.</summary>
    Task StoreOffsetAsync(string reference, string stream, ulong offset, CancellationToken cancellationToken);

    /// <summary>The id (first offset) of the last chunk of <paramref name="stream"/>, null when it is empty (consumer lag).</summary>
    Task<ulong?> QueryLastChunkIdAsync(string stream, CancellationToken cancellationToken);

    /// <summary>
    /// Subscribes as <paramref name="options"/> say (<see cref="ConsumerOptions.Handler"/> is not used: deliveries are
    /// read from the source).
    /// </summary>
    Task<IDeliverySource> SubscribeAsync(ConsumerOptions options, CancellationToken cancellationToken);

    /// <summary>Publishes an AMQP message and completes on its confirm (deduplicated when <paramref name="deduplicationId"/> is set).</summary>
    Task SendAsync(string stream, Message message, ulong? deduplicationId, CancellationToken cancellationToken);
}

/// <summary>One subscription: its deliveries in offset order, its status changes, and its end.</summary>
internal interface IDeliverySource : IAsyncDisposable
{
    /// <summary>Single active consumer: whether this one is the active member (true otherwise).</summary>
    bool IsActive { get; }

    /// <summary>Completes when the subscription ended for good (faulted with why).</summary>
    Task Completion { get; }

    /// <summary>The subscription's status changes (a lost connection being recovered, recovered).</summary>
    event EventHandler<StreamStatusChangedEventArgs>? StatusChanged;

    /// <summary>
    /// Ends the subscription without storing an offset on the way out (a single active consumer otherwise stores its
    /// last delivered offset when it leaves): after a rewind rewrote the stored offset.
    /// </summary>
    ValueTask DisposeWithoutStoringOffsetAsync();

    /// <summary>The deliveries; a delivery's <see cref="StreamDelivery.Body"/> is valid until the next one is read.</summary>
    IAsyncEnumerable<StreamDelivery> ReadAllAsync(CancellationToken cancellationToken);
}

/// <summary>One stored entry as a delivery source hands it over.</summary>
/// <param name="Offset">The entry's offset in its stream.</param>
/// <param name="ChunkId">The first offset of the entry's chunk.</param>
/// <param name="Timestamp">When the chunk was written.</param>
/// <param name="Body">The entry's bytes (an AMQP 1.0 message, or a raw producer's bytes).</param>
internal readonly record struct StreamDelivery(ulong Offset, ulong ChunkId, DateTimeOffset Timestamp, ReadOnlyMemory<byte> Body);
