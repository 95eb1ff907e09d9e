using Streams.Client.Connections;

namespace Streams.Client.Producers;

/// <summary><see cref="IStreamOperations"/> over a <see cref="StreamConnection"/>, optionally owning (and closing) it.</summary>
internal sealed class StreamConnectionOperations(StreamConnection connection, bool ownsConnection) : IStreamOperations
{
    public StreamConnection Connection => connection;

    public int FrameMax => connection.FrameMax;

    public bool DeliverV2 => connection.DeliverV2;

    public bool PublishV2 => connection.PublishV2;

    public event EventHandler<ConnectionClosedEventArgs>? Closed
    {
        add => connection.Closed += value;
        remove => connection.Closed -= value;
    }

    public byte RegisterPublisher(string stream, IPublisherFrameHandler handler) => connection.RegisterPublisher(stream, handler);

    public void UnregisterPublisher(byte publisherId) => connection.UnregisterPublisher(publisherId);

    public byte RegisterSubscription(string stream, ISubscriptionFrameHandler handler) => connection.RegisterSubscription(stream, handler);

    public void UnregisterSubscription(byte subscriptionId) => connection.UnregisterSubscription(subscriptionId);

    public Task DeclarePublisherAsync(byte publisherId, string? reference, string stream, CancellationToken cancellationToken) =>
        connection.DeclarePublisherAsync(publisherId, reference, stream, cancellationToken);

    public Task DeletePublisherAsync(byte publisherId, CancellationToken cancellationToken) =>
        connection.DeletePublisherAsync(publisherId, cancellationToken);

    public Task<ulong> QueryPublisherSequenceAsync(string reference, string stream, CancellationToken cancellationToken) =>
        connection.QueryPublisherSequenceAsync(reference, stream, cancellationToken);

    public Task SubscribeAsync(byte subscriptionId, string stream, OffsetSpecification offset, ushort credit, IReadOnlyDictionary<string, string>? properties, CancellationToken cancellationToken) =>
        connection.SubscribeAsync(subscriptionId, stream, offset, credit, properties, cancellationToken);

    public Task UnsubscribeAsync(byte subscriptionId, CancellationToken cancellationToken) =>
        connection.UnsubscribeAsync(subscriptionId, cancellationToken);

    public ValueTask CreditAsync(byte subscriptionId, ushort credit) => connection.CreditAsync(subscriptionId, credit);

    public ValueTask StoreOffsetAsync(string reference, string stream, ulong offset) =>
        connection.StoreOffsetAsync(reference, stream, offset);

    public Task<ulong?> QueryOffsetAsync(string reference, string stream, CancellationToken cancellationToken) =>
        connection.QueryOffsetAsync(reference, stream, cancellationToken);

    public ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken) =>
        connection.WriteAsync(frame, cancellationToken);

    public ValueTask ReleaseAsync() => ownsConnection ? connection.DisposeAsync() : ValueTask.CompletedTask;
}
