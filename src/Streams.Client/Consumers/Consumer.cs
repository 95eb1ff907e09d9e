using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Client.Connections;
using Streams.Client.Consumers;
using Streams.Client.Producers;

namespace Streams.Client;

/// <summary>
/// Reads one stream: either pushes each message to <see cref="ConsumerOptions.Handler"/> or yields them from
/// <see cref="ReadAllAsync"/>. Chunks are validated (CRC-32), split into messages (sub-entry batches decompressed),
/// messages below the requested offset skipped, and one credit is returned per processed chunk, so at most
/// <see cref="ConsumerOptions.InitialCredits"/> chunks are held in memory.
/// </summary>
public sealed class Consumer : IAsyncDisposable, ISubscriptionFrameHandler
{
    private static readonly TimeSpan UnsubscribeTimeout = TimeSpan.FromSeconds(10);

    private readonly IStreamOperations _ops;
    private readonly ConsumerOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<ChunkItem> _chunks = Channel.CreateUnbounded<ChunkItem>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte _subscriptionId;
    private ulong _minOffset;
    private long _lastOffset = -1;
    private long _committedChunkId = -1;
    private Task _dispatch = Task.CompletedTask;
    private int _reading;
    private int _disposed;
    private int _closed;
    private volatile bool _active = true;

    private Consumer(IStreamOperations ops, ConsumerOptions options, ILogger logger)
    {
        _ops = ops;
        _options = options;
        _logger = logger;
    }

    /// <summary>The stream this consumer reads.</summary>
    public string Stream => _options.Stream;

    /// <summary>The offset-tracking reference, if any.</summary>
    public string? Name => _options.Name;

    /// <summary>The offset of the last message delivered (handled or yielded), or <see langword="null"/> before the first.</summary>
    public ulong? LastOffset
    {
        get
        {
            long value = Volatile.Read(ref _lastOffset);
            return value < 0 ? null : (ulong)value;
        }
    }

    /// <summary>
    /// The broker's committed chunk id from the latest Deliver v2 frame (null before one, or with Deliver v1): with
    /// <see cref="LastOffset"/> it gives an estimate of the consumer lag.
    /// </summary>
    public ulong? CommittedChunkId
    {
        get
        {
            long value = Volatile.Read(ref _committedChunkId);
            return value < 0 ? null : (ulong)value;
        }
    }

    /// <summary>Whether this consumer is the active one of its single-active-consumer group (always true otherwise).</summary>
    public bool IsActive => _active;

    /// <summary>
    /// Completes when the consumer stops: successfully when disposed, faulted when a handler throws, a chunk fails
    /// validation, the stream becomes unavailable or the connection closes.
    /// </summary>
    public Task Completion => _completion.Task;

    internal byte SubscriptionId => _subscriptionId;

    internal static async Task<Consumer> CreateAsync(IStreamOperations ops, ConsumerOptions options, ILogger? logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ops);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var consumer = new Consumer(ops, options, logger ?? NullLogger.Instance) { _active = !options.SingleActiveConsumer };
        var offset = await consumer.ResolveStartAsync(cancellationToken).ConfigureAwait(false);
        consumer._minOffset = offset.Type == OffsetType.Offset ? offset.OffsetValue : 0;
        consumer._subscriptionId = ops.RegisterSubscription(options.Stream, consumer);
        try
        {
            await ops.SubscribeAsync(consumer._subscriptionId, options.Stream, offset, options.InitialCredits, options.BuildSubscribeProperties(), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            ops.UnregisterSubscription(consumer._subscriptionId);
            consumer._chunks.Writer.TryComplete();
            consumer.ReleaseQueuedChunks();
            throw;
        }

        if (options.Handler is not null)
        {
            consumer._dispatch = Task.Run(consumer.DispatchLoopAsync, CancellationToken.None);
        }

        ConsumerLog.Subscribed(consumer._logger, consumer._subscriptionId, options.Stream, offset);
        return consumer;
    }

    /// <summary>
    /// Yields the messages in offset order. Only one enumeration at a time, and only without
    /// <see cref="ConsumerOptions.Handler"/>. A delivery's <see cref="Delivery.Body"/> is valid until the next
    /// <c>MoveNextAsync</c>. Ends when the consumer is disposed; throws when it fails.
    /// </summary>
    /// <param name="cancellationToken">Stops the enumeration (the subscription stays open).</param>
    public async IAsyncEnumerable<Delivery> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (_options.Handler is not null)
        {
            throw new InvalidOperationException("This consumer pushes messages to ConsumerOptions.Handler; ReadAllAsync is for consumers without a handler.");
        }

        if (Interlocked.Exchange(ref _reading, 1) == 1)
        {
            throw new InvalidOperationException("The consumer is already being enumerated; only one ReadAllAsync may run at a time.");
        }

        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
            var reader = _chunks.Reader;
            var postFilter = _options.PostFilter;
            while (true)
            {
                bool more;
                try
                {
                    more = await reader.WaitToReadAsync(linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    more = false;
                }

                if (!more)
                {
                    if (_completion.Task.IsFaulted)
                    {
                        await _completion.Task.ConfigureAwait(false);
                    }

                    yield break;
                }

                while (reader.TryRead(out var item))
                {
                    var chunk = Open(item, out long timestamp);
                    try
                    {
                        while (chunk.TryRead(out ulong offset, out var body))
                        {
                            Volatile.Write(ref _lastOffset, (long)offset);
                            var delivery = new Delivery(this, offset, chunk.ChunkId, timestamp, body);
                            if (postFilter is null || postFilter(delivery))
                            {
                                yield return delivery;
                            }
                        }
                    }
                    finally
                    {
                        chunk.Dispose();
                        item.Buffer.Release();
                    }

                    await CreditAsync().ConfigureAwait(false);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _reading, 0);
        }
    }

    /// <summary>Stores <paramref name="offset"/> for <see cref="ConsumerOptions.Name"/> (fire-and-forget on the wire).</summary>
    /// <param name="offset">The offset of the last processed message.</param>
    /// <exception cref="InvalidOperationException">The consumer has no name.</exception>
    public ValueTask StoreOffsetAsync(ulong offset) =>
        _ops.StoreOffsetAsync(RequireName(nameof(StoreOffsetAsync)), _options.Stream, offset);

    /// <summary>The offset stored for <see cref="ConsumerOptions.Name"/>, or <see langword="null"/> when none is.</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <exception cref="InvalidOperationException">The consumer has no name.</exception>
    public Task<ulong?> QueryOffsetAsync(CancellationToken cancellationToken = default) =>
        _ops.QueryOffsetAsync(RequireName(nameof(QueryOffsetAsync)), _options.Stream, cancellationToken);

    /// <summary>Unsubscribes, stops the handler loop, and returns every buffered chunk to the pool.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        bool wasClosed = Interlocked.Exchange(ref _closed, 1) == 1;
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (!wasClosed)
        {
            try
            {
                using var timeout = new CancellationTokenSource(UnsubscribeTimeout);
                await _ops.UnsubscribeAsync(_subscriptionId, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                ConsumerLog.UnsubscribeFailed(_logger, _subscriptionId, Stream, ex);
            }
        }

        _ops.UnregisterSubscription(_subscriptionId);
        _chunks.Writer.TryComplete();
        try
        {
            await _dispatch.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Already reported through Completion.
        }

        ReleaseQueuedChunks();
        _completion.TrySetResult();
        _stopping.Dispose();
        await _ops.ReleaseAsync().ConfigureAwait(false);
    }

    void ISubscriptionFrameHandler.OnDeliver(FrameBuffer buffer, ReadOnlyMemory<byte> chunk, ulong? committedChunkId)
    {
        if (committedChunkId is { } committed)
        {
            Volatile.Write(ref _committedChunkId, (long)committed);
        }

        if (!_chunks.Writer.TryWrite(new ChunkItem(buffer, chunk)))
        {
            buffer.Release();
        }
    }

    void ISubscriptionFrameHandler.OnCreditError(ResponseCode code) => ConsumerLog.CreditError(_logger, _subscriptionId, Stream, code);

    async ValueTask<OffsetSpecification> ISubscriptionFrameHandler.OnConsumerUpdateAsync(bool active)
    {
        _active = active;
        if (!active)
        {
            return OffsetSpecification.None;
        }

        var offset = await ResolveStartAsync(CancellationToken.None).ConfigureAwait(false);
        long last = Volatile.Read(ref _lastOffset);
        if (last >= 0 && (offset.Type != OffsetType.Offset || offset.OffsetValue <= (ulong)last))
        {
            offset = OffsetSpecification.Offset((ulong)last + 1);
        }

        _minOffset = offset.Type == OffsetType.Offset ? offset.OffsetValue : 0;
        return offset;
    }

    void ISubscriptionFrameHandler.OnMetadataUpdate(ResponseCode code) =>
        Close(new StreamNotAvailableException(Stream, $"The stream {Stream} is no longer available ({code}); the consumer stopped."));

    void ISubscriptionFrameHandler.OnConnectionClosed(ConnectionClosedEventArgs reason) =>
        Close(reason.Kind == ConnectionCloseKind.Application && Volatile.Read(ref _disposed) == 1
            ? null
            : new StreamConnectionClosedException($"The connection of the consumer on stream {Stream} closed: {reason}.", reason));

    private async Task<OffsetSpecification> ResolveStartAsync(CancellationToken cancellationToken)
    {
        if (_options.Name is { } name && _options.ResumeFromStoredOffset)
        {
            var stored = await _ops.QueryOffsetAsync(name, _options.Stream, cancellationToken).ConfigureAwait(false);
            if (stored is { } value)
            {
                return OffsetSpecification.Offset(value + 1);
            }
        }

        return _options.Offset;
    }

    private void Close(Exception? error)
    {
        if (Interlocked.Exchange(ref _closed, 1) == 1)
        {
            return;
        }

        if (error is null)
        {
            _chunks.Writer.TryComplete();
            _completion.TrySetResult();
        }
        else
        {
            ConsumerLog.Stopped(_logger, Stream, error);
            _completion.TrySetException(error);
            _chunks.Writer.TryComplete();
        }
    }

    private async Task DispatchLoopAsync()
    {
        var handler = _options.Handler!;
        var postFilter = _options.PostFilter;
        var token = _stopping.Token;
        var reader = _chunks.Reader;
        try
        {
            while (await reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                while (reader.TryRead(out var item))
                {
                    var chunk = Open(item, out long timestamp);
                    try
                    {
                        while (chunk.TryRead(out ulong offset, out var body))
                        {
                            var delivery = new Delivery(this, offset, chunk.ChunkId, timestamp, body);
                            if (postFilter is null || postFilter(delivery))
                            {
                                await handler(delivery, token).ConfigureAwait(false);
                            }

                            Volatile.Write(ref _lastOffset, (long)offset);
                        }
                    }
                    finally
                    {
                        chunk.Dispose();
                        item.Buffer.Release();
                    }

                    await CreditAsync().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ConsumerLog.HandlerFailed(_logger, Stream, ex);
            Close(ex);
        }
    }

    private ChunkReader Open(in ChunkItem item, out long timestamp)
    {
        try
        {
            var span = item.Chunk.Span;
            var header = ChunkHeader.Read(span);
            if (_options.CrcCheck && header.IsUserChunk && !header.IsCrcValid(span))
            {
                throw new ChunkFormatException(
                    $"Chunk {header.ChunkId} of stream {Stream} failed CRC-32 validation (expected 0x{header.Crc:x8}).", header.ChunkId);
            }

            timestamp = header.Timestamp;
            return new ChunkReader(item.Chunk, header, _minOffset);
        }
        catch (Exception ex)
        {
            item.Buffer.Release();
            Close(ex);
            throw;
        }
    }

    private async ValueTask CreditAsync()
    {
        if (Volatile.Read(ref _closed) == 1)
        {
            return;
        }

        try
        {
            await _ops.CreditAsync(_subscriptionId, 1).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ConsumerLog.CreditFailed(_logger, _subscriptionId, Stream, ex);
        }
    }

    private void ReleaseQueuedChunks()
    {
        while (_chunks.Reader.TryRead(out var item))
        {
            item.Buffer.Release();
        }
    }

    private string RequireName(string operation) =>
        _options.Name ?? throw new InvalidOperationException($"{operation} needs a named consumer (ConsumerOptions.Name).");

    private readonly record struct ChunkItem(FrameBuffer Buffer, ReadOnlyMemory<byte> Chunk);
}
