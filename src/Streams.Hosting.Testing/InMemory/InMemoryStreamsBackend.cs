using System.Globalization;
using Microsoft.Extensions.Options;
using Streams.Client;
using Streams.Hosting.Internal;
using Streams.Hosting.Internal.Backend;

namespace Streams.Hosting.Testing.InMemory;

/// <summary>
/// The hosted pipeline's backend over the <see cref="InMemoryBroker"/>: always connected, no network. Errors are the
/// client's typed exceptions, as the real backend throws them.
/// </summary>
internal sealed class InMemoryStreamsBackend : IStreamsBackend
{
    private readonly InMemoryBroker _broker;
    private readonly IOptions<RabbitStreamsOptions> _options;

    public InMemoryStreamsBackend(InMemoryBroker broker, IOptions<RabbitStreamsOptions> options, TimeProvider time)
    {
        _broker = broker;
        _options = options;
        ConnectingSince = time.GetUtcNow();
    }

    public ConnectionPhase Phase => ConnectionPhase.Connected;

    public Exception? LastError => null;

    public int Attempts => 1;

    public DateTimeOffset ConnectingSince { get; }

    public string Endpoints => "in-memory (Streams.Hosting.Testing)";

    public Task<bool> StartAsync(RabbitStreamsStartBehavior behavior, CancellationToken cancellationToken) => Task.FromResult(true);

    public ValueTask WaitConnectedAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public Task<bool> CreateStreamAsync(string name, StreamSpec? spec, CancellationToken cancellationToken) =>
        Task.FromResult(_broker.CreateStream(name, spec));

    public Task<bool> CreateSuperStreamAsync(string name, int partitions, StreamSpec? spec, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        var names = Enumerable.Range(0, partitions).Select(i => $"{name}-{i}").ToArray();
        var keys = Enumerable.Range(0, partitions).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        return Task.FromResult(_broker.CreateSuperStream(name, names, keys, spec));
    }

    public Task<bool> CreateSuperStreamAsync(string name, IReadOnlyList<string> partitions, IReadOnlyList<string> bindingKeys, StreamSpec? spec, CancellationToken cancellationToken) =>
        Task.FromResult(_broker.CreateSuperStream(name, partitions, bindingKeys, spec));

    public Task<bool> StreamExistsAsync(string name, CancellationToken cancellationToken) => Task.FromResult(_broker.StreamExists(name));

    public Task<IReadOnlyList<string>> QueryPartitionsAsync(string superStream, CancellationToken cancellationToken) =>
        Task.FromResult(_broker.QueryPartitions(superStream));

    public Task<IReadOnlyList<string>> QueryRouteAsync(string routingKey, string superStream, CancellationToken cancellationToken) =>
        Task.FromResult(_broker.QueryRoute(routingKey, superStream));

    public Task<ulong?> QueryOffsetAsync(string reference, string stream, CancellationToken cancellationToken) =>
        Task.FromResult(_broker.QueryOffset(reference, stream));

    public Task StoreOffsetAsync(string reference, string stream, ulong offset, CancellationToken cancellationToken)
    {
        _broker.StoreOffset(reference, stream, offset);
        return Task.CompletedTask;
    }

    public Task<ulong?> QueryLastChunkIdAsync(string stream, CancellationToken cancellationToken) =>
        Task.FromResult(_broker.GetStream(stream).LastChunkId);

    public Task<IDeliverySource> SubscribeAsync(ConsumerOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var stream = _broker.GetStream(options.Stream);
        var start = options.ResumeFromStoredOffset && options.Name is { } name && _broker.QueryOffset(name, options.Stream) is { } stored
            ? stored + 1
            : stream.Resolve(options.Offset);
        return Task.FromResult<IDeliverySource>(new InMemoryDeliverySource(stream, start, options.FilterValues, options.MatchUnfiltered));
    }

    public Task SendAsync(string stream, Message message, ulong? deduplicationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        cancellationToken.ThrowIfCancellationRequested();
        if (deduplicationId is { } id)
        {
            var reference = _options.Value.Publishing.DeduplicationProducerName ?? throw new InvalidOperationException(
                "PublishOptions.DeduplicationId needs RabbitStreams:Publishing:DeduplicationProducerName (the stable publisher reference the broker deduplicates on).");
            _broker.Publish(stream, [message], reference, [id]);
        }
        else
        {
            _broker.Publish(stream, [message]);
        }

        return Task.CompletedTask;
    }
}
