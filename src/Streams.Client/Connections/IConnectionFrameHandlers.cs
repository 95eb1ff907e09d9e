namespace Streams.Client.Connections;

/// <summary>
/// What a <c>StreamConnection</c> calls for the frames addressed to one publisher id.
/// Callbacks run on the connection's read loop: they must not block.
/// </summary>
internal interface IPublisherFrameHandler
{
    /// <summary>PublishConfirm: <paramref name="publishingIds"/> holds n big-endian u64 ids back to back.</summary>
    void OnConfirm(ReadOnlySpan<byte> publishingIds, int count);

    /// <summary>One entry of a PublishError frame.</summary>
    void OnError(ulong publishingId, ResponseCode code);

    /// <summary>MetadataUpdate for the publisher's stream: the broker has already dropped the publisher.</summary>
    void OnMetadataUpdate(ResponseCode code);

    /// <summary>The connection closed (by either side or by failure); <paramref name="reason"/> says why.</summary>
    void OnConnectionClosed(ConnectionClosedEventArgs reason);
}

/// <summary>
/// What a <c>StreamConnection</c> calls for the frames addressed to one subscription id.
/// Callbacks run on the connection's read loop: they must not block.
/// </summary>
internal interface ISubscriptionFrameHandler
{
    /// <summary>
    /// A Deliver frame. <paramref name="chunk"/> starts at the chunk header (magic byte 0x50);
    /// <paramref name="committedChunkId"/> is set for Deliver v2. The handler owns <paramref name="buffer"/>
    /// and must call <see cref="FrameBuffer.Release"/> exactly once when done with <paramref name="chunk"/>.
    /// </summary>
    void OnDeliver(FrameBuffer buffer, ReadOnlyMemory<byte> chunk, ulong? committedChunkId);

    /// <summary>A Credit error response for this subscription.</summary>
    void OnCreditError(ResponseCode code);

    /// <summary>
    /// ConsumerUpdate (single active consumer). The returned specification is sent back in the reply
    /// (<see cref="OffsetSpecification.None"/> keeps the Subscribe one). Every request must be answered.
    /// </summary>
    ValueTask<OffsetSpecification> OnConsumerUpdateAsync(bool active);

    /// <summary>MetadataUpdate for the subscription's stream: the broker has already dropped the subscription.</summary>
    void OnMetadataUpdate(ResponseCode code);

    /// <summary>The connection closed.</summary>
    void OnConnectionClosed(ConnectionClosedEventArgs reason);
}

/// <summary>A pooled buffer holding one inbound frame; returned to the pool by <see cref="Release"/>.</summary>
internal sealed class FrameBuffer
{
    private byte[]? _array;

    public FrameBuffer(byte[] array) => _array = array;

    public byte[] Array => _array ?? throw new ObjectDisposedException(nameof(FrameBuffer));

    public void Release()
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(array);
        }
    }
}
