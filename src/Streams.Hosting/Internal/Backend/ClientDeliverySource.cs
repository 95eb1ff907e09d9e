using Streams.Client;

namespace Streams.Hosting.Internal.Backend;

/// <summary>A subscription of the client: its <see cref="Consumer"/>, its deliveries read straight from the client's buffer.</summary>
internal sealed class ClientDeliverySource : IDeliverySource
{
    public ClientDeliverySource(Consumer consumer)
    {
        Consumer = consumer;
    }

    /// <summary>The client's consumer.</summary>
    public Consumer Consumer { get; }

    public bool IsActive => Consumer.IsActive;

    public Task Completion => Consumer.Completion;

    public event EventHandler<StreamStatusChangedEventArgs>? StatusChanged
    {
        add => Consumer.StatusChanged += value;
        remove => Consumer.StatusChanged -= value;
    }

    public IAsyncEnumerable<StreamDelivery> ReadAllAsync(CancellationToken cancellationToken) => new Deliveries(Consumer, cancellationToken);

    public ValueTask DisposeAsync() => Consumer.DisposeAsync();

    public ValueTask DisposeWithoutStoringOffsetAsync() => Consumer.DisposeWithoutStoringOffsetAsync();

    /// <summary>The client's deliveries as <see cref="StreamDelivery"/>: no state machine of its own (moves forward the client's).</summary>
    private sealed class Deliveries(Consumer consumer, CancellationToken readToken) : IAsyncEnumerable<StreamDelivery>, IAsyncEnumerator<StreamDelivery>
    {
        private IAsyncEnumerator<Delivery>? _inner;

        public StreamDelivery Current
        {
            get
            {
                var delivery = _inner!.Current;
                return new StreamDelivery(delivery.Offset, delivery.ChunkId, delivery.Timestamp, delivery.Body);
            }
        }

        public IAsyncEnumerator<StreamDelivery> GetAsyncEnumerator(CancellationToken cancellationToken)
        {
            if (_inner is not null)
            {
                throw new InvalidOperationException("The deliveries of a subscription are read once.");
            }

            var token = cancellationToken.CanBeCanceled ? cancellationToken : readToken;
            _inner = consumer.ReadAllAsync(token).GetAsyncEnumerator(token);
            return this;
        }

        public ValueTask<bool> MoveNextAsync() => _inner!.MoveNextAsync();

        public ValueTask DisposeAsync() => _inner?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
