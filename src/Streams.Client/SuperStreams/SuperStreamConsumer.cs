using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Streams.Client.SuperStreams;

namespace Streams.Client;

/// <summary>
/// Reads every partition of a super stream with one <see cref="Consumer"/> per partition (on the connections the system shares among its consumers).
/// Deliveries name their partition in <see cref="Delivery.Stream"/>; <see cref="Delivery.StoreOffsetAsync"/> stores
/// the offset of that partition for <see cref="SuperStreamConsumerOptions.Name"/>. Order is kept within a partition,
/// not across partitions.
/// </summary>
public sealed class SuperStreamConsumer : IAsyncDisposable
{
    private readonly StreamSystem _system;
    private readonly SuperStreamConsumerOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Consumer> _consumers = new(StringComparer.Ordinal);
    private readonly Channel<Handoff> _handoffs = Channel.CreateUnbounded<Handoff>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _subscribeLock = new(1, 1);
    private readonly ConcurrentDictionary<Consumer, string> _retired = new();
    private SuperStreamPartitionWatcher? _watcher;
    private string[] _partitions = [];
    private int _reading;
    private int _disposed;

    private SuperStreamConsumer(StreamSystem system, SuperStreamConsumerOptions options, ILogger logger)
    {
        _system = system;
        _options = options;
        _logger = logger;
    }

    /// <summary>The super stream.</summary>
    public string SuperStream => _options.SuperStream;

    /// <summary>The partitions consumed, in order.</summary>
    public IReadOnlyList<string> Partitions => Volatile.Read(ref _partitions);

    /// <summary>The consumer of each partition.</summary>
    public IReadOnlyDictionary<string, Consumer> Consumers => _consumers;

    /// <summary>
    /// Completes when the super-stream consumer stops: successfully when disposed, faulted when a partition consumer
    /// fails (its handler threw, the connection closed...).
    /// </summary>
    public Task Completion => _completion.Task;

    internal static async Task<SuperStreamConsumer> CreateAsync(StreamSystem system, SuperStreamConsumerOptions options, CancellationToken cancellationToken)
    {
        var partitions = await system.QueryPartitionsAsync(options.SuperStream, cancellationToken).ConfigureAwait(false);
        if (partitions.Count == 0)
        {
            throw new StreamDoesNotExistException(options.SuperStream, $"Super stream '{options.SuperStream}' has no partitions (does it exist?).");
        }

        var consumer = new SuperStreamConsumer(system, options, system.LoggerFactory.CreateLogger<SuperStreamConsumer>());
        try
        {
            await consumer.SubscribeAsync(partitions, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await consumer.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        consumer._watcher = new SuperStreamPartitionWatcher(
            system, options.SuperStream, partitions, options.PartitionRefreshInterval ?? Timeout.InfiniteTimeSpan, consumer.OnPartitionsChangedAsync, options.TimeProvider, consumer._logger);
        return consumer;
    }

    /// <summary>Subscribes to the partitions not consumed yet.</summary>
    private async Task SubscribeAsync(IReadOnlyList<string> partitions, CancellationToken cancellationToken)
    {
        await _subscribeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var partition in partitions)
            {
                ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
                if (_consumers.ContainsKey(partition))
                {
                    continue;
                }

                var handler = _options.Handler ?? HandOffAsync;
                var consumer = await _system.CreateConsumerAsync(_options.ConsumerOptionsFor(partition, handler), cancellationToken).ConfigureAwait(false);
                _consumers[partition] = consumer;
                _ = WatchAsync(partition, consumer);
            }

            Volatile.Write(ref _partitions, [.. partitions.Where(_consumers.ContainsKey)]);
        }
        finally
        {
            _subscribeLock.Release();
        }
    }

    /// <summary>Subscribes to the added partitions, then closes the consumers of the removed ones.</summary>
    private async Task OnPartitionsChangedAsync(SuperStreamPartitionsChangedEventArgs change, CancellationToken cancellationToken)
    {
        await SubscribeAsync(change.Partitions, cancellationToken).ConfigureAwait(false);
        await _subscribeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var partition in change.Removed)
            {
                if (!_consumers.TryRemove(partition, out var consumer))
                {
                    continue;
                }

                // Its end (a deleted stream, or the disposal) is not a failure of the super-stream consumer.
                _retired[consumer] = partition;
                SuperStreamLog.PartitionConsumerRemoved(_logger, _options.SuperStream, partition);
                try
                {
                    await consumer.DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is StreamClientException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
                {
                    SuperStreamLog.DisposeFailed(_logger, _options.SuperStream, partition, ex);
                }
            }

            Volatile.Write(ref _partitions, [.. change.Partitions.Where(_consumers.ContainsKey)]);
        }
        finally
        {
            _subscribeLock.Release();
        }

        PartitionsChanged?.Invoke(this, change);
    }

    /// <summary>
    /// Raised after the partition list changed and the consumers followed it: added partitions are consumed, the
    /// consumers of removed ones are closed (see <see cref="SuperStreamConsumerOptions.PartitionRefreshInterval"/>).
    /// </summary>
    public event EventHandler<SuperStreamPartitionsChangedEventArgs>? PartitionsChanged;

    /// <summary>Re-reads the partition list now, subscribes to new partitions and closes the consumers of removed ones; true when it changed.</summary>
    /// <param name="cancellationToken">Cancels the query and subscriptions.</param>
    public Task<bool> RefreshPartitionsAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _watcher!.RefreshAsync(cancellationToken);
    }

    private async Task WatchAsync(string partition, Consumer consumer)
    {
        try
        {
            await consumer.Completion.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            if (ex is StreamDeletedException && Volatile.Read(ref _disposed) == 0 && _watcher is { } watcher)
            {
                // A deleted partition is also gone from the super stream's exchange: a removal, not a failure.
                try
                {
                    await watcher.RefreshAsync().ConfigureAwait(false);
                }
                catch (Exception refresh) when (refresh is StreamClientException or IOException or System.Net.Sockets.SocketException or OperationCanceledException or ObjectDisposedException)
                {
                    SuperStreamLog.RefreshFailed(_logger, _options.SuperStream, refresh);
                }
            }

            if (_retired.ContainsKey(consumer))
            {
                return;
            }

            if (Volatile.Read(ref _disposed) == 0)
            {
                SuperStreamLog.PartitionConsumerStopped(_logger, _options.SuperStream, partition, ex);
                var error = new StreamClientException($"The consumer of partition '{partition}' of super stream '{_options.SuperStream}' stopped: {ex.Message}", ex);
                _handoffs.Writer.TryComplete(error);
                _completion.TrySetException(error);
            }
        }
        finally
        {
            _retired.TryRemove(consumer, out _);
        }
    }

    /// <summary>The handler of every partition consumer in pull mode: hands the delivery to the reader and waits until it moved on.</summary>
    private async ValueTask HandOffAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        var handoff = new Handoff(delivery);
        await _handoffs.Writer.WriteAsync(handoff, cancellationToken).ConfigureAwait(false);
        await handoff.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Yields the messages of all partitions as they arrive (offset order within a partition). Only one enumeration at a
    /// time, and only without <see cref="SuperStreamConsumerOptions.Handler"/>. A delivery's <see cref="Delivery.Body"/>
    /// is valid until the next <c>MoveNextAsync</c>. Ends when the consumer is disposed; throws when a partition consumer fails.
    /// </summary>
    /// <param name="cancellationToken">Stops the enumeration (the subscriptions stay open).</param>
    public async IAsyncEnumerable<Delivery> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (_options.Handler is not null)
        {
            throw new InvalidOperationException("This super-stream consumer pushes messages to SuperStreamConsumerOptions.Handler; ReadAllAsync is for consumers without a handler.");
        }

        if (Interlocked.Exchange(ref _reading, 1) == 1)
        {
            throw new InvalidOperationException("The super-stream consumer is already being enumerated; only one ReadAllAsync may run at a time.");
        }

        Handoff? current = null;
        try
        {
            var reader = _handoffs.Reader;
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out current))
                {
                    yield return current.Delivery;
                    current.Done.TrySetResult();
                    current = null;
                }
            }
        }
        finally
        {
            current?.Done.TrySetResult();
            Volatile.Write(ref _reading, 0);
        }
    }

    /// <summary>Stores <paramref name="offset"/> of <paramref name="partition"/> for <see cref="SuperStreamConsumerOptions.Name"/>.</summary>
    /// <param name="partition">The partition stream.</param>
    /// <param name="offset">The offset of the last processed message of that partition.</param>
    public ValueTask StoreOffsetAsync(string partition, ulong offset)
    {
        ArgumentException.ThrowIfNullOrEmpty(partition);
        return _consumers.TryGetValue(partition, out var consumer)
            ? consumer.StoreOffsetAsync(offset)
            : throw new ArgumentException($"'{partition}' is not a partition consumed by this super-stream consumer.", nameof(partition));
    }

    /// <summary>Stops every partition consumer.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_watcher is not null)
        {
            await _watcher.DisposeAsync().ConfigureAwait(false);
        }

        await _subscribeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_consumers.Select(async pair =>
            {
                try
                {
                    await pair.Value.DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is StreamClientException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
                {
                    SuperStreamLog.DisposeFailed(_logger, _options.SuperStream, pair.Key, ex);
                }
            })).ConfigureAwait(false);
        }
        finally
        {
            _subscribeLock.Release();
        }

        _handoffs.Writer.TryComplete();
        _completion.TrySetResult();
    }

    private sealed class Handoff(Delivery delivery)
    {
        public Delivery Delivery { get; } = delivery;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
