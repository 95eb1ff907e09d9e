using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Streams.Client.SuperStreams;

namespace Streams.Client;

/// <summary>
/// Publishes to a super stream: routes each message by its routing key (hash or binding key) to the partition's
/// <see cref="Producer"/>, one per partition, created on first use on a connection to the partition leader (shared with the system's other producers).
/// Thread-safe.
/// </summary>
public sealed class SuperStreamProducer : IAsyncDisposable
{
    private readonly StreamSystem _system;
    private readonly SuperStreamProducerOptions _options;
    private readonly SuperStreamRouter _router;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Lazy<Task<Producer>>> _producers = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disposing = new();
    private int _disposed;

    private SuperStreamProducer(StreamSystem system, SuperStreamProducerOptions options, SuperStreamRouter router, ILogger logger)
    {
        _system = system;
        _options = options;
        _router = router;
        _logger = logger;
        router.PartitionsChanged += OnPartitionsChanged;
    }

    /// <summary>The super stream.</summary>
    public string SuperStream => _options.SuperStream;

    /// <summary>The partitions currently known, in order.</summary>
    public IReadOnlyList<string> Partitions => _router.Partitions;

    /// <summary>Raised after the partition list changed (see <see cref="SuperStreamProducerOptions.PartitionRefreshInterval"/>).</summary>
    public event EventHandler<SuperStreamPartitionsChangedEventArgs>? PartitionsChanged;

    internal static async Task<SuperStreamProducer> CreateAsync(StreamSystem system, SuperStreamProducerOptions options, CancellationToken cancellationToken)
    {
        var logger = system.LoggerFactory.CreateLogger<SuperStreamProducer>();
        var router = await SuperStreamRouter.CreateAsync(system, options.RouterOptions(), logger, cancellationToken).ConfigureAwait(false);
        return new SuperStreamProducer(system, options, router, logger);
    }

    /// <summary>A removed partition's producer is closed (after its in-flight messages); new partitions get one on first use.</summary>
    private void OnPartitionsChanged(object? sender, SuperStreamPartitionsChangedEventArgs change)
    {
        foreach (var partition in change.Removed)
        {
            if (_producers.TryRemove(partition, out var lazy) && lazy.IsValueCreated)
            {
                _ = CloseAsync(partition, lazy.Value);
            }
        }

        PartitionsChanged?.Invoke(this, change);
    }

    /// <summary>Re-reads the partition list now (what <see cref="SuperStreamProducerOptions.PartitionRefreshInterval"/> does periodically); true when it changed.</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    public Task<bool> RefreshPartitionsAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _router.RefreshPartitionsAsync(cancellationToken);
    }

    /// <summary>The partitions <paramref name="message"/> goes to (one with the hash strategy; all bound ones with the key strategy).</summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels a Route query.</param>
    /// <exception cref="SuperStreamRoutingException">No partition matches the routing key.</exception>
    public ValueTask<IReadOnlyList<string>> RouteAsync(Message message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        ThrowIfDisposed();
        var key = _options.RoutingKeyExtractor(message)
            ?? throw new SuperStreamRoutingException(_options.SuperStream, null, $"The routing key extractor returned null for a message to super stream '{_options.SuperStream}'.");
        return _router.RouteAsync(key, cancellationToken);
    }

    /// <summary>The partition index the hash strategy picks for <paramref name="routingKey"/> among <paramref name="partitionCount"/> partitions.</summary>
    /// <param name="routingKey">The routing key.</param>
    /// <param name="partitionCount">The number of partitions.</param>
    public static int HashPartition(string routingKey, int partitionCount)
    {
        ArgumentNullException.ThrowIfNull(routingKey);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        return (int)(MurmurHash3.Hash32(routingKey, MurmurHash3.StreamRoutingSeed) % (uint)partitionCount);
    }

    /// <summary>
    /// Routes <paramref name="message"/> and publishes it to its partition(s); completes when every partition confirmed it.
    /// </summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels waiting for room, a Route query or the producer creation (not a sent message).</param>
    /// <exception cref="SuperStreamRoutingException">No partition matches the routing key.</exception>
    /// <exception cref="PublishException">The broker refused the message.</exception>
    /// <exception cref="ConfirmationTimeoutException">No confirmation within the confirm timeout.</exception>
    public async Task SendAsync(Message message, CancellationToken cancellationToken = default)
    {
        var partitions = await RouteAsync(message, cancellationToken).ConfigureAwait(false);
        if (partitions.Count == 1)
        {
            var producer = await GetProducerAsync(partitions[0], cancellationToken).ConfigureAwait(false);
            await producer.SendAsync(message, cancellationToken).ConfigureAwait(false);
            return;
        }

        var sends = new Task[partitions.Count];
        for (var i = 0; i < partitions.Count; i++)
        {
            var producer = await GetProducerAsync(partitions[i], cancellationToken).ConfigureAwait(false);
            sends[i] = producer.SendAsync(message, cancellationToken);
        }

        await Task.WhenAll(sends).ConfigureAwait(false);
    }

    /// <summary>
    /// Routes every message and publishes them as one batch per partition (order kept within a partition); completes
    /// when every message is confirmed, fails with the first failure. Nothing is sent when a message cannot be routed.
    /// </summary>
    /// <param name="messages">The messages.</param>
    /// <param name="cancellationToken">Cancels waiting for room, Route queries or producer creations (not sent messages).</param>
    /// <exception cref="SuperStreamRoutingException">A message matches no partition.</exception>
    public async Task SendBatchAsync(IReadOnlyList<Message> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var batches = new Dictionary<string, List<Message>>(StringComparer.Ordinal);
        foreach (var message in messages)
        {
            if (message is null)
            {
                throw new ArgumentException("The batch contains a null message.", nameof(messages));
            }

            foreach (var partition in await RouteAsync(message, cancellationToken).ConfigureAwait(false))
            {
                if (!batches.TryGetValue(partition, out var batch))
                {
                    batches[partition] = batch = [];
                }

                batch.Add(message);
            }
        }

        var sends = new List<Task>(batches.Count);
        foreach (var (partition, batch) in batches)
        {
            var producer = await GetProducerAsync(partition, cancellationToken).ConfigureAwait(false);
            sends.Add(producer.SendBatchAsync(batch, cancellationToken));
        }

        await Task.WhenAll(sends).ConfigureAwait(false);
    }

    /// <summary>The producer of <paramref name="partition"/>, created (or re-created when it was closed) on demand.</summary>
    /// <param name="partition">A partition stream of this super stream.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    public async Task<Producer> GetProducerAsync(string partition, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(partition);
        while (true)
        {
            ThrowIfDisposed();
            var lazy = _producers.GetOrAdd(partition, p => new Lazy<Task<Producer>>(() => CreatePartitionProducerAsync(p), LazyThreadSafetyMode.ExecutionAndPublication));
            Producer producer;
            try
            {
                producer = await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                _producers.TryRemove(new KeyValuePair<string, Lazy<Task<Producer>>>(partition, lazy));
                throw;
            }

            if (producer.IsOpen)
            {
                return producer;
            }

            if (_producers.TryRemove(new KeyValuePair<string, Lazy<Task<Producer>>>(partition, lazy)))
            {
                SuperStreamLog.ReplacingClosedProducer(_logger, _options.SuperStream, partition);
                await DisposeQuietlyAsync(partition, producer).ConfigureAwait(false);
            }
        }
    }

    private Task<Producer> CreatePartitionProducerAsync(string partition) =>
        _system.CreateProducerAsync(_options.ProducerOptionsFor(partition), _disposing.Token);

    /// <summary>Closes every partition producer (each waits for its in-flight messages up to its drain timeout).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _router.PartitionsChanged -= OnPartitionsChanged;
        await _router.DisposeAsync().ConfigureAwait(false);
        await _disposing.CancelAsync().ConfigureAwait(false);
        var closing = new List<Task>();
        foreach (var (partition, lazy) in _producers)
        {
            if (lazy.IsValueCreated)
            {
                closing.Add(CloseAsync(partition, lazy.Value));
            }
        }

        await Task.WhenAll(closing).ConfigureAwait(false);
        _producers.Clear();
        _disposing.Dispose();
    }

    private async Task CloseAsync(string partition, Task<Producer> creation)
    {
        Producer producer;
        try
        {
            producer = await creation.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StreamClientException or OperationCanceledException or IOException or System.Net.Sockets.SocketException)
        {
            return;
        }

        await DisposeQuietlyAsync(partition, producer).ConfigureAwait(false);
    }

    private async Task DisposeQuietlyAsync(string partition, Producer producer)
    {
        try
        {
            await producer.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StreamClientException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            SuperStreamLog.DisposeFailed(_logger, _options.SuperStream, partition, ex);
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
