namespace Streams.Client.Connections.Sharing;

/// <summary>
/// Holds a publisher or subscription id whose DeletePublisher/Unsubscribe went unanswered: the broker may still send
/// frames for it, which are dropped here instead of reaching the entity the id would otherwise be handed to next.
/// </summary>
internal sealed class RetiredIdHandler : IPublisherFrameHandler, ISubscriptionFrameHandler
{
    public static readonly RetiredIdHandler Instance = new();

    private RetiredIdHandler()
    {
    }

    public void OnConfirm(ReadOnlySpan<byte> publishingIds, int count)
    {
    }

    public void OnError(ulong publishingId, ResponseCode code)
    {
    }

    public void OnDeliver(FrameBuffer buffer, ReadOnlyMemory<byte> chunk, ulong? committedChunkId) => buffer.Release();

    public void OnCreditError(ResponseCode code)
    {
    }

    // Not called: the connection answers a ConsumerUpdate for a retired id as for an unknown one.
    public ValueTask<OffsetSpecification> OnConsumerUpdateAsync(bool active) => ValueTask.FromResult(OffsetSpecification.None);

    public void OnMetadataUpdate(ResponseCode code)
    {
    }

    public void OnConnectionClosed(ConnectionClosedEventArgs reason)
    {
    }
}
