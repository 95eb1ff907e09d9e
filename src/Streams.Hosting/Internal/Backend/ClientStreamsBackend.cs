using Streams.Client;

namespace Streams.Hosting.Internal.Backend;

/// <summary>The production backend: the application's <see cref="StreamSystem"/> (<see cref="StreamSystemProvider"/>) and its pooled producers.</summary>
internal sealed class ClientStreamsBackend : IStreamsBackend
{
    private readonly StreamSystemProvider _systems;
    private readonly ProducerPool _pool;

    public ClientStreamsBackend(StreamSystemProvider systems, ProducerPool pool)
    {
        _systems = systems;
        _pool = pool;
    }

    public ConnectionPhase Phase => _systems.Phase;

    public Exception? LastError => _systems.LastError;

    public int Attempts => _systems.Attempts;

    public DateTimeOffset ConnectingSince => _systems.ConnectingSince;

    public string Endpoints => _systems.Endpoints;

    public async Task<bool> StartAsync(RabbitStreamsStartBehavior behavior, CancellationToken cancellationToken) =>
        await _systems.StartAsync(behavior, cancellationToken).ConfigureAwait(false) is not null;

    public async ValueTask WaitConnectedAsync(CancellationToken cancellationToken) =>
        await _systems.GetAsync(cancellationToken).ConfigureAwait(false);

    public async Task<bool> CreateStreamAsync(string name, StreamSpec? spec, CancellationToken cancellationToken) =>
        await (await _systems.GetAsync(cancellationToken).ConfigureAwait(false)).CreateStreamAsync(name, spec, cancellationToken).ConfigureAwait(false);

    public async Task<bool> CreateSuperStreamAsync(string name, int partitions, StreamSpec? spec, CancellationToken cancellationToken) =>
        await (await _systems.GetAsync(cancellationToken).ConfigureAwait(false)).CreateSuperStreamAsync(name, partitions, spec, cancellationToken).ConfigureAwait(false);

    public async Task<bool> CreateSuperStreamAsync(string name, IReadOnlyList<string> partitions, IReadOnlyList<string> bindingKeys, StreamSpec? spec, CancellationToken cancellationToken) =>
        await (await _systems.GetAsync(cancellationToken).ConfigureAwait(false)).CreateSuperStreamAsync(name, partitions, bindingKeys, spec, cancellationToken).ConfigureAwait(false);

    public async Task<bool> StreamExistsAsync(string name, CancellationToken cancellationToken) =>
        await (await _systems.GetAsync(cancellationToken).ConfigureAwait(false)).StreamExistsAsync(name, cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<string>> QueryPartitionsAsync(string superStream, CancellationToken cancellationToken) =>
        await (await _systems.GetAsync(cancellationToken).ConfigureAwait(false)).QueryPartitionsAsync(superStream, cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<string>> QueryRouteAsync(string routingKey, string superStream, CancellationToken cancellationToken) =>
        await (await _systems.GetAsync(cancellationToken).ConfigureAwait(false)).QueryRouteAsync(routingKey, superStream, cancellationToken).ConfigureAwait(false);

    public async Task<ulong?> QueryOffsetAsync(string reference, string stream, CancellationToken cancellationToken) =>
        await (await _systems.GetAsync(cancellationToken).ConfigureAwait(false)).QueryOffsetAsync(reference, stream, cancellationToken).ConfigureAwait(false);

    public async Task StoreOffsetAsync(string reference, string stream, ulong offset, CancellationToken cancellationToken) =>
        await (await _systems.GetAsync(cancellationToken).ConfigureAwait(false)).StoreOffsetAsync(reference, stream, offset, cancellationToken).ConfigureAwait(false);

    public async Task<ulong?> QueryLastChunkIdAsync(string stream, CancellationToken cancellationToken)
    {
        var system = await _systems.GetAsync(cancellationToken).ConfigureAwait(false);
        return (await system.GetStreamStatisticsAsync(stream, cancellationToken).ConfigureAwait(false)).LastChunkId;
    }

    public async Task<IDeliverySource> SubscribeAsync(ConsumerOptions options, CancellationToken cancellationToken)
    {
        var system = await _systems.GetAsync(cancellationToken).ConfigureAwait(false);
        return new ClientDeliverySource(await system.CreateConsumerAsync(options, cancellationToken).ConfigureAwait(false));
    }

    public Task SendAsync(string stream, Message message, ulong? deduplicationId, CancellationToken cancellationToken)
    {
        var pooled = _pool.GetAsync(stream, deduplicationId is not null, cancellationToken);
        if (pooled.IsCompletedSuccessfully)
        {
            // The common case: the stream's producer exists (no state machine for the lookup).
            return Send(pooled.Result, message, deduplicationId, cancellationToken);
        }

        return SendWhenCreatedAsync(pooled, message, deduplicationId, cancellationToken);
    }

    private static async Task SendWhenCreatedAsync(ValueTask<Producer> pooled, Message message, ulong? deduplicationId, CancellationToken cancellationToken) =>
        await Send(await pooled.ConfigureAwait(false), message, deduplicationId, cancellationToken).ConfigureAwait(false);

    private static Task Send(Producer producer, Message message, ulong? deduplicationId, CancellationToken cancellationToken) =>
        deduplicationId is { } id ? producer.SendAsync(id, message, cancellationToken) : producer.SendAsync(message, cancellationToken);
}
