using System.Buffers.Binary;
using System.Collections.Concurrent;
using Streams.Client.Connections;

namespace Streams.Client.Tests.Connections;

internal sealed class RecordingPublisherHandler : IPublisherFrameHandler
{
    public ConcurrentQueue<ulong> Confirmed { get; } = new();

    public ConcurrentQueue<(ulong Id, ResponseCode Code)> Errors { get; } = new();

    public TaskCompletionSource<ulong> FirstConfirm { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<ResponseCode> MetadataUpdate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<ConnectionClosedEventArgs> ConnectionClosed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void OnConfirm(ReadOnlySpan<byte> publishingIds, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var id = BinaryPrimitives.ReadUInt64BigEndian(publishingIds[(i * 8)..]);
            Confirmed.Enqueue(id);
            FirstConfirm.TrySetResult(id);
        }
    }

    public void OnError(ulong publishingId, ResponseCode code) => Errors.Enqueue((publishingId, code));

    public void OnMetadataUpdate(ResponseCode code) => MetadataUpdate.TrySetResult(code);

    public void OnConnectionClosed(ConnectionClosedEventArgs reason) => ConnectionClosed.TrySetResult(reason);
}

internal sealed class RecordingSubscriptionHandler(OffsetSpecification consumerUpdateAnswer) : ISubscriptionFrameHandler
{
    public RecordingSubscriptionHandler()
        : this(OffsetSpecification.None)
    {
    }

    public TaskCompletionSource<(byte[] Chunk, ulong? CommittedChunkId)> FirstDelivery { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<ResponseCode> CreditError { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<bool> ConsumerUpdate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<ResponseCode> MetadataUpdate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<ConnectionClosedEventArgs> ConnectionClosed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Deliveries;

    public void OnDeliver(FrameBuffer buffer, ReadOnlyMemory<byte> chunk, ulong? committedChunkId)
    {
        Interlocked.Increment(ref Deliveries);
        FirstDelivery.TrySetResult((chunk.ToArray(), committedChunkId));
        buffer.Release();
    }

    public void OnCreditError(ResponseCode code) => CreditError.TrySetResult(code);

    public ValueTask<OffsetSpecification> OnConsumerUpdateAsync(bool active)
    {
        ConsumerUpdate.TrySetResult(active);
        return ValueTask.FromResult(consumerUpdateAnswer);
    }

    public void OnMetadataUpdate(ResponseCode code) => MetadataUpdate.TrySetResult(code);

    public void OnConnectionClosed(ConnectionClosedEventArgs reason) => ConnectionClosed.TrySetResult(reason);
}
