using Streams.Client.Connections;

namespace Streams.Client.Producers;

/// <summary>
/// <see cref="IStreamOperations"/> over a <see cref="StreamConnection"/> for one producer or consumer: a lease on a
/// connection that may be shared with other entities (see <c>Connections.Sharing.ConnectionPool</c>).
/// </summary>
/// <remarks>
/// Ids are per connection, and an id an entity gave up is soon handed to another entity of the same connection. So the
/// lease remembers the ids it registered, and the id-addressed operations (unregister, DeletePublisher, Unsubscribe,
/// Credit) act only on an id it still holds: a late call with a stale id (after a MetadataUpdate, during a recovery)
/// is a no-op instead of deleting, unsubscribing or crediting another entity. <see cref="ReleaseAsync"/> runs once.
/// </remarks>
internal sealed class StreamConnectionOperations : IStreamOperations
{
    private readonly StreamConnection _connection;
    private readonly Func<ValueTask>? _release;
    private readonly IdSet _publishers = new();
    private readonly IdSet _subscriptions = new();
    private int _released;

    /// <summary>A lease that closes <paramref name="connection"/> on release when <paramref name="ownsConnection"/>.</summary>
    public StreamConnectionOperations(StreamConnection connection, bool ownsConnection)
        : this(connection, ownsConnection ? connection.DisposeAsync : null)
    {
    }

    /// <summary>A lease whose release runs <paramref name="release"/> (once).</summary>
    public StreamConnectionOperations(StreamConnection connection, Func<ValueTask>? release)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _release = release;
    }

    public StreamConnection Connection => _connection;

    public int FrameMax => _connection.FrameMax;

    public bool DeliverV2 => _connection.DeliverV2;

    public bool PublishV2 => _connection.PublishV2;

    /// <summary>Whether <see cref="ReleaseAsync"/> ran.</summary>
    public bool IsReleased => Volatile.Read(ref _released) != 0;

    public event EventHandler<ConnectionClosedEventArgs>? Closed
    {
        add => _connection.Closed += value;
        remove => _connection.Closed -= value;
    }

    public byte RegisterPublisher(string stream, IPublisherFrameHandler handler)
    {
        var id = _connection.RegisterPublisher(stream, handler);
        _publishers.Add(id);
        return id;
    }

    public void UnregisterPublisher(byte publisherId)
    {
        if (_publishers.Remove(publisherId))
        {
            _connection.UnregisterPublisher(publisherId);
        }
    }

    public byte RegisterSubscription(string stream, ISubscriptionFrameHandler handler)
    {
        var id = _connection.RegisterSubscription(stream, handler);
        _subscriptions.Add(id);
        return id;
    }

    public void UnregisterSubscription(byte subscriptionId)
    {
        if (_subscriptions.Remove(subscriptionId))
        {
            _connection.UnregisterSubscription(subscriptionId);
        }
    }

    public Task DeclarePublisherAsync(byte publisherId, string? reference, string stream, CancellationToken cancellationToken) =>
        _connection.DeclarePublisherAsync(publisherId, reference, stream, cancellationToken);

    public Task DeletePublisherAsync(byte publisherId, CancellationToken cancellationToken) =>
        _publishers.Contains(publisherId) ? _connection.DeletePublisherAsync(publisherId, cancellationToken) : Task.CompletedTask;

    public Task<ulong> QueryPublisherSequenceAsync(string reference, string stream, CancellationToken cancellationToken) =>
        _connection.QueryPublisherSequenceAsync(reference, stream, cancellationToken);

    public Task SubscribeAsync(byte subscriptionId, string stream, OffsetSpecification offset, ushort credit, IReadOnlyDictionary<string, string>? properties, CancellationToken cancellationToken) =>
        _connection.SubscribeAsync(subscriptionId, stream, offset, credit, properties, cancellationToken);

    public Task UnsubscribeAsync(byte subscriptionId, CancellationToken cancellationToken) =>
        _subscriptions.Contains(subscriptionId) ? _connection.UnsubscribeAsync(subscriptionId, cancellationToken) : Task.CompletedTask;

    public ValueTask CreditAsync(byte subscriptionId, ushort credit) =>
        _subscriptions.Contains(subscriptionId) ? _connection.CreditAsync(subscriptionId, credit) : ValueTask.CompletedTask;

    public ValueTask StoreOffsetAsync(string reference, string stream, ulong offset) =>
        _connection.StoreOffsetAsync(reference, stream, offset);

    public Task<ulong?> QueryOffsetAsync(string reference, string stream, CancellationToken cancellationToken) =>
        _connection.QueryOffsetAsync(reference, stream, cancellationToken);

    public ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken) =>
        _connection.WriteAsync(frame, cancellationToken);

    public ValueTask ReleaseAsync() =>
        Interlocked.Exchange(ref _released, 1) == 0 && _release is { } release ? release() : ValueTask.CompletedTask;

    /// <summary>A lock-free set of one-byte ids (a 256-bit bitmap).</summary>
    private sealed class IdSet
    {
        private readonly ulong[] _bits = new ulong[4];

        public void Add(byte id) => Interlocked.Or(ref _bits[id >> 6], 1UL << (id & 63));

        public bool Remove(byte id)
        {
            ulong mask = 1UL << (id & 63);
            return (Interlocked.And(ref _bits[id >> 6], ~mask) & mask) != 0;
        }

        public bool Contains(byte id) => (Volatile.Read(ref _bits[id >> 6]) & (1UL << (id & 63))) != 0;
    }
}
