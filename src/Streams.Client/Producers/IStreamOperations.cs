using Streams.Client.Connections;

namespace Streams.Client.Producers;

/// <summary>
/// The slice of a stream connection that producers and consumers use. The production implementation delegates
/// to <c>StreamConnection</c>; tests substitute an in-memory fake.
/// </summary>
internal interface IStreamOperations
{
    /// <summary>The negotiated maximum frame size (0 = unlimited).</summary>
    int FrameMax { get; }

    /// <summary>Whether Deliver v2 was negotiated.</summary>
    bool DeliverV2 { get; }

    /// <summary>Whether the broker accepts Publish v2 (filter values).</summary>
    bool PublishV2 { get; }

    event EventHandler<ConnectionClosedEventArgs>? Closed;

    byte RegisterPublisher(string stream, IPublisherFrameHandler handler);

    void UnregisterPublisher(byte publisherId);

    byte RegisterSubscription(string stream, ISubscriptionFrameHandler handler);

    void UnregisterSubscription(byte subscriptionId);

    Task DeclarePublisherAsync(byte publisherId, string? reference, string stream, CancellationToken cancellationToken);

    Task DeletePublisherAsync(byte publisherId, CancellationToken cancellationToken);

    Task<ulong> QueryPublisherSequenceAsync(string reference, string stream, CancellationToken cancellationToken);

    Task SubscribeAsync(byte subscriptionId, string stream, OffsetSpecification offset, ushort credit, IReadOnlyDictionary<string, string>? properties, CancellationToken cancellationToken);

    Task UnsubscribeAsync(byte subscriptionId, CancellationToken cancellationToken);

    ValueTask CreditAsync(byte subscriptionId, ushort credit);

    ValueTask StoreOffsetAsync(string reference, string stream, ulong offset);

    Task<ulong?> QueryOffsetAsync(string reference, string stream, CancellationToken cancellationToken);

    /// <summary>Writes one complete frame (u32 size prefix included).</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken);

    /// <summary>Releases the connection when the producer/consumer owns it; otherwise does nothing.</summary>
    ValueTask ReleaseAsync();
}
