using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Client.Connections;
using Streams.Client.Consumers;
using Streams.Client.Producers;
using Streams.Client.Recovery;

namespace Streams.Client;

/// <summary>
/// Reads one stream: either pushes each message to <see cref="ConsumerOptions.Handler"/> or yields them from
/// <see cref="ReadAllAsync"/>. Chunks are validated (CRC-32), split into messages (sub-entry batches decompressed),
/// messages below the requested offset skipped, and one credit is returned per processed chunk, so at most
/// <see cref="ConsumerOptions.InitialCredits"/> chunks are held in memory.
/// </summary>
public sealed class Consumer : IAsyncDisposable
{
    private static readonly TimeSpan UnsubscribeTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan DeactivationWait = TimeSpan.FromSeconds(30);

    private readonly IStreamConnector? _connector;
    private readonly bool _recoveryEnabled;
    private readonly StatusTracker _status;
    private readonly RecoveryStreak _streak = new();
    private readonly CancellationTokenSource _recoveryCts = new();
    private readonly Lock _lock = new();
    private readonly bool _sac;
    private readonly ConsumerOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<ChunkItem> _chunks = Channel.CreateUnbounded<ChunkItem>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IStreamOperations _ops;
    private Exception? _chunkError;
    private byte _subscriptionId;
    private int _generation;
    private Task _recoveryTask = Task.CompletedTask;
    private int _inDelivery;
    private ulong _minOffset;
    private long _lastOffset = -1;
    private volatile bool _skipStoreOnClose;
    private long _committedChunkId = -1;
    private Task _dispatch = Task.CompletedTask;
    private int _reading;
    private int _disposed;
    private int _closed;
    private volatile bool _active = true;
    private CompressionCodecRegistry _codecs = CompressionCodecRegistry.BuiltIn;

    private Consumer(IStreamOperations ops, IStreamConnector? connector, ConsumerOptions options, ILogger logger)
    {
        _ops = ops;
        _connector = connector;
        _options = options;
        _logger = logger;
        _recoveryEnabled = connector is not null && options.Recovery.Enabled;
        _sac = options.SingleActiveConsumer;
        _status = new StatusTracker("Consumer", options.Stream, logger);
    }

    /// <summary>The current status: connected, reconnecting, recovered, failed or closed.</summary>
    public StreamStatus Status => _status.Status;

    /// <summary>
    /// Raised on every status change (connection lost, each reconnection attempt, recovered, failed, closed). Runs on
    /// the thread that observed the change: keep handlers short; exceptions are logged and ignored.
    /// </summary>
    public event EventHandler<StreamStatusChangedEventArgs>? StatusChanged;

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
    /// Completes when the consumer stops: successfully when disposed; faulted when a handler throws (with its exception),
    /// a chunk fails validation (<see cref="ChunkFormatException"/>; <see cref="Status"/> becomes
    /// <see cref="StreamStatus.Failed"/>), the stream is deleted (<see cref="StreamDeletedException"/>), recovery gives up, or — with recovery
    /// disabled — the stream becomes unavailable or the connection closes.
    /// </summary>
    public Task Completion => _completion.Task;

    internal byte SubscriptionId => _subscriptionId;

    internal static Task<Consumer> CreateAsync(IStreamOperations ops, ConsumerOptions options, ILogger? logger, CancellationToken cancellationToken) =>
        CreateAsync(ops, null, options, logger, cancellationToken);

    /// <summary>Subscribes on <paramref name="ops"/>; with a <paramref name="connector"/> the consumer can recover.</summary>
    internal static Task<Consumer> CreateAsync(IStreamOperations ops, IStreamConnector? connector, ConsumerOptions options, ILogger? logger, CancellationToken cancellationToken) =>
        CreateAsync(ops, connector, options, CompressionCodecRegistry.BuiltIn, logger, cancellationToken);

    /// <summary>Subscribes on <paramref name="ops"/>, decompressing sub-entry batches with <paramref name="codecs"/>.</summary>
    internal static async Task<Consumer> CreateAsync(IStreamOperations ops, IStreamConnector? connector, ConsumerOptions options, CompressionCodecRegistry codecs, ILogger? logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(codecs);
        ArgumentNullException.ThrowIfNull(ops);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var consumer = new Consumer(ops, connector, options, logger ?? NullLogger.Instance) { _active = !options.SingleActiveConsumer, _codecs = codecs };
        var offset = await consumer.ResolveStartAsync(cancellationToken).ConfigureAwait(false);
        consumer._minOffset = offset.Type == OffsetType.Offset ? offset.OffsetValue : 0;
        consumer._subscriptionId = ops.RegisterSubscription(options.Stream, new Binding(consumer, 0));
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
    /// <c>MoveNextAsync</c>. Ends when the consumer is disposed; throws when it fails — with
    /// <see cref="ChunkFormatException"/> for a malformed chunk (found in its header or while reading it; a header that
    /// disagrees with the data is found at the chunk's end, after its earlier records were yielded), or
    /// <see cref="UnsupportedCompressionException"/> for a compression without codec.
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
                    if (IsStale(item))
                    {
                        continue;
                    }

                    var chunk = Open(item, out long timestamp);
                    try
                    {
                        while (ReadNext(ref chunk, out ulong offset, out var body))
                        {
                            if (_sac && !EnterDelivery())
                            {
                                break;
                            }

                            Volatile.Write(ref _lastOffset, (long)offset);
                            var delivery = new Delivery(this, offset, chunk.ChunkId, timestamp, body);
                            if (postFilter is null || postFilter(delivery))
                            {
                                yield return delivery;
                            }

                            if (_sac)
                            {
                                Volatile.Write(ref _inDelivery, 0);
                            }
                        }
                    }
                    finally
                    {
                        if (_sac)
                        {
                            Volatile.Write(ref _inDelivery, 0);
                        }

                        chunk.Dispose();
                        item.Buffer.Release();
                    }

                    await CreditAsync(item.Generation).ConfigureAwait(false);
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
        Volatile.Read(ref _ops).StoreOffsetAsync(RequireName(nameof(StoreOffsetAsync)), _options.Stream, offset);

    /// <summary>The offset stored for <see cref="ConsumerOptions.Name"/>, or <see langword="null"/> when none is.</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <exception cref="InvalidOperationException">The consumer has no name.</exception>
    public Task<ulong?> QueryOffsetAsync(CancellationToken cancellationToken = default) =>
        Volatile.Read(ref _ops).QueryOffsetAsync(RequireName(nameof(QueryOffsetAsync)), _options.Stream, cancellationToken);

    /// <summary>
    /// Closes the consumer like <see cref="DisposeAsync"/>, but never stores an offset on the way out (an active
    /// single-active consumer otherwise stores its last delivered offset, see
    /// <see cref="ConsumerOptions.StoreOffsetOnDeactivation"/>): for a caller that has just rewritten the stored offset
    /// (a rewind) and hands the group over from there.
    /// </summary>
    /// <returns>Completes when closed.</returns>
    public ValueTask DisposeWithoutStoringOffsetAsync()
    {
        _skipStoreOnClose = true;
        return DisposeAsync();
    }

    /// <summary>Unsubscribes, stops the handler loop, and returns every buffered chunk to the pool.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        bool wasClosed = Interlocked.Exchange(ref _closed, 1) == 1;
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _recoveryCts.CancelAsync().ConfigureAwait(false);
        try
        {
            await _recoveryTask.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ConsumerLog.Stopped(_logger, Stream, ex);
        }

        IStreamOperations ops;
        byte subscriptionId;
        lock (_lock)
        {
            ops = _ops;
            subscriptionId = _subscriptionId;
        }

        if (!wasClosed)
        {
            if (_sac && _active && _options.StoreOffsetOnDeactivation && !_skipStoreOnClose && _options.Name is not null)
            {
                // Hand over cleanly: let the handler finish, then store what was processed before leaving the group,
                // so the next active consumer starts right after it.
                await WaitForDispatchAsync().ConfigureAwait(false);
                await StoreLastProcessedAsync(ops).ConfigureAwait(false);
            }

            try
            {
                using var timeout = new CancellationTokenSource(UnsubscribeTimeout);
                await ops.UnsubscribeAsync(subscriptionId, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                ConsumerLog.UnsubscribeFailed(_logger, subscriptionId, Stream, ex);
            }
        }

        ops.UnregisterSubscription(subscriptionId);
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
        await ops.ReleaseAsync().ConfigureAwait(false);
        _recoveryCts.Dispose();
        _status.Raise(this, StatusChanged, _status.Change(StreamStatus.Closed, "disposed"));
    }

    private async Task WaitForDispatchAsync()
    {
        try
        {
            await _dispatch.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Reported through Completion.
        }
    }

    private async ValueTask StoreLastProcessedAsync(IStreamOperations ops)
    {
        long last = Volatile.Read(ref _lastOffset);
        if (last < 0 || _options.Name is not { } name)
        {
            return;
        }

        try
        {
            await ops.StoreOffsetAsync(name, Stream, (ulong)last).ConfigureAwait(false);
            ConsumerLog.StoredOnDeactivation(_logger, Stream, name, (ulong)last);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ConsumerLog.StoreFailed(_logger, Stream, ex);
        }
    }

    /// <summary>Single active consumer: marks a delivery in progress unless the consumer was deactivated.</summary>
    private bool EnterDelivery()
    {
        Interlocked.Exchange(ref _inDelivery, 1);
        if (_active)
        {
            return true;
        }

        Volatile.Write(ref _inDelivery, 0);
        return false;
    }

    /// <summary>A chunk of an older connection generation: dropped (the resubscription delivers it again).</summary>
    private bool IsStale(in ChunkItem item)
    {
        if (item.Generation == Volatile.Read(ref _generation) && (!_sac || _active))
        {
            return false;
        }

        item.Buffer.Release();
        return true;
    }

    private void OnDeliver(int generation, FrameBuffer buffer, ReadOnlyMemory<byte> chunk, ulong? committedChunkId)
    {
        if (generation != Volatile.Read(ref _generation))
        {
            buffer.Release();
            return;
        }

        if (committedChunkId is { } committed)
        {
            Volatile.Write(ref _committedChunkId, (long)committed);
        }

        if (!_chunks.Writer.TryWrite(new ChunkItem(buffer, chunk, generation)))
        {
            buffer.Release();
        }
    }

    private async ValueTask<OffsetSpecification> OnConsumerUpdateAsync(int generation, bool active)
    {
        if (generation != Volatile.Read(ref _generation))
        {
            return OffsetSpecification.None;
        }

        if (!active)
        {
            _active = false;
            Interlocked.MemoryBarrier();
            ConsumerLog.Deactivated(_logger, Stream, _options.Name);
            if (_options.StoreOffsetOnDeactivation)
            {
                // Let the message being processed finish (bounded), then store the last processed offset before answering:
                // the broker activates the next consumer only after this answer.
                long deadline = Environment.TickCount64 + (long)DeactivationWait.TotalMilliseconds;
                while (Volatile.Read(ref _inDelivery) == 1 && Environment.TickCount64 < deadline)
                {
                    await Task.Delay(1).ConfigureAwait(false);
                }

                await StoreLastProcessedAsync(Volatile.Read(ref _ops)).ConfigureAwait(false);
            }

            return OffsetSpecification.None;
        }

        ulong? stored = null;
        if (_options.Name is { } name)
        {
            stored = await Volatile.Read(ref _ops).QueryOffsetAsync(name, _options.Stream, CancellationToken.None).ConfigureAwait(false);
        }

        var offset = stored is { } value && _options.ResumeFromStoredOffset ? OffsetSpecification.Offset(value + 1) : _options.Offset;
        long last = Volatile.Read(ref _lastOffset);
        if (last >= 0 && (offset.Type != OffsetType.Offset || offset.OffsetValue <= (ulong)last))
        {
            offset = OffsetSpecification.Offset((ulong)last + 1);
        }

        if (_options.ActivationHandler is { } callback)
        {
            using var timeout = new CancellationTokenSource(DeactivationWait);
            offset = await callback(new ConsumerActivation(this, Stream, _options.Name!, stored, offset), timeout.Token).ConfigureAwait(false);
            if (offset.Type == OffsetType.None)
            {
                offset = _options.Offset;
            }
        }

        _minOffset = offset.Type == OffsetType.Offset ? offset.OffsetValue : 0;
        _active = true;
        ConsumerLog.Activated(_logger, Stream, _options.Name, offset);
        return offset;
    }

    /// <summary>
    /// The connection of <paramref name="generation"/> was lost, or the broker dropped the subscription (MetadataUpdate).
    /// Without recovery the consumer stops. With recovery, one resubscription runs for this generation; chunks of the old
    /// subscription still queued are dropped.
    /// </summary>
    private void OnConnectionLost(int generation, ConnectionClosedEventArgs? closed, ResponseCode? metadataCode)
    {
        if (!_recoveryEnabled || Volatile.Read(ref _disposed) == 1)
        {
            if (closed is not null)
            {
                Close(closed.Kind == ConnectionCloseKind.Application && Volatile.Read(ref _disposed) == 1
                    ? null
                    : new StreamConnectionClosedException($"The connection of the consumer on stream {Stream} closed: {closed}.", closed));
            }
            else
            {
                Close(new StreamNotAvailableException(Stream, $"The stream {Stream} is no longer available ({metadataCode}); the consumer stopped."));
            }

            return;
        }

        string reason = closed is not null ? $"the connection closed ({closed})" : $"the stream {Stream} is no longer available on this connection ({metadataCode})";
        IStreamOperations old;
        byte oldId;
        int next;
        lock (_lock)
        {
            if (generation != _generation || Volatile.Read(ref _closed) == 1)
            {
                return;
            }

            next = _generation + 1;
            Volatile.Write(ref _generation, next);
            old = _ops;
            oldId = _subscriptionId;
        }

        old.UnregisterSubscription(oldId);
        DropQueuedChunks();
        _status.Raise(this, StatusChanged, _status.Change(StreamStatus.Reconnecting, reason));
        _recoveryTask = Task.Run(() => RecoverAsync(old, next, reason, closed), CancellationToken.None);
    }

    private async Task RecoverAsync(IStreamOperations old, int generation, string reason, ConnectionClosedEventArgs? closed)
    {
        try
        {
            await old.ReleaseAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ConsumerLog.UnsubscribeFailed(_logger, 0, Stream, ex);
        }

        try
        {
            var offset = await Reconnector.RunAsync(
                _options.Recovery,
                _options.Recovery.TimeProvider ?? _options.TimeProvider,
                Stream,
                _logger,
                attempt => _status.Raise(this, StatusChanged, _status.Change(StreamStatus.Reconnecting, reason, null, attempt)),
                (_, ct) => ResubscribeAsync(generation, ct),
                _recoveryCts.Token,
                _streak,
                new StreamConnectionClosedException($"The consumer on stream {Stream} lost its subscription: {reason}.", closed)).ConfigureAwait(false);
            if (offset is not null)
            {
                _status.Raise(this, StatusChanged, _status.Change(StreamStatus.Recovered, $"resubscribed at {offset} after: {reason}"));
            }
        }
        catch (OperationCanceledException) when (_recoveryCts.IsCancellationRequested)
        {
            // Disposed while recovering.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            if (generation != Volatile.Read(ref _generation))
            {
                return;
            }

            Exception error = ex is StreamDoesNotExistException ? new StreamDeletedException(Stream) : ex;
            _status.Raise(this, StatusChanged, _status.Change(StreamStatus.Failed, error.Message, error));
            Close(error);
        }
    }

    /// <summary>
    /// One recovery attempt: connect (to a replica when there is one), then subscribe right after the last offset
    /// delivered to the application, or as configured when nothing was delivered yet. Returns null when superseded.
    /// </summary>
    private async Task<OffsetSpecification?> ResubscribeAsync(int generation, CancellationToken cancellationToken)
    {
        var ops = await _connector!.ConnectAsync(Stream, preferReplica: true, cancellationToken).ConfigureAwait(false);
        byte id = 0;
        bool registered = false;
        try
        {
            long last = Volatile.Read(ref _lastOffset);
            var offset = last >= 0 ? OffsetSpecification.Offset((ulong)last + 1) : await ResolveStartAsync(ops, cancellationToken).ConfigureAwait(false);
            id = ops.RegisterSubscription(Stream, new Binding(this, generation));
            registered = true;
            lock (_lock)
            {
                if (generation != _generation || Volatile.Read(ref _closed) == 1)
                {
                    throw new OperationCanceledException("superseded");
                }

                _ops = ops;
                _subscriptionId = id;
                _minOffset = offset.Type == OffsetType.Offset ? offset.OffsetValue : 0;
                if (_sac)
                {
                    _active = false;
                }
            }

            await ops.SubscribeAsync(id, Stream, offset, _options.InitialCredits, _options.BuildSubscribeProperties(), cancellationToken).ConfigureAwait(false);
            ConsumerLog.Subscribed(_logger, id, Stream, offset);
            return offset;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            ops.UnregisterSubscription(id);
            await ops.ReleaseAsync().ConfigureAwait(false);
            return null;
        }
        catch
        {
            if (registered)
            {
                ops.UnregisterSubscription(id);
            }

            await ops.ReleaseAsync().ConfigureAwait(false);
            throw;
        }
    }

    private void DropQueuedChunks()
    {
        // Only stale chunks can be queued here: the new subscription does not exist yet.
        ReleaseQueuedChunks();
    }

    private Task<OffsetSpecification> ResolveStartAsync(CancellationToken cancellationToken) =>
        ResolveStartAsync(_ops, cancellationToken);

    private async Task<OffsetSpecification> ResolveStartAsync(IStreamOperations ops, CancellationToken cancellationToken)
    {
        if (_options.Name is { } name && _options.ResumeFromStoredOffset)
        {
            var stored = await ops.QueryOffsetAsync(name, _options.Stream, cancellationToken).ConfigureAwait(false);
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
                    if (IsStale(item))
                    {
                        continue;
                    }

                    var chunk = Open(item, out long timestamp);
                    try
                    {
                        while (ReadNext(ref chunk, out ulong offset, out var body))
                        {
                            if (_sac && !EnterDelivery())
                            {
                                break;
                            }

                            try
                            {
                                var delivery = new Delivery(this, offset, chunk.ChunkId, timestamp, body);
                                if (postFilter is null || postFilter(delivery))
                                {
                                    await handler(delivery, token).ConfigureAwait(false);
                                }

                                Volatile.Write(ref _lastOffset, (long)offset);
                            }
                            finally
                            {
                                if (_sac)
                                {
                                    Volatile.Write(ref _inDelivery, 0);
                                }
                            }
                        }
                    }
                    finally
                    {
                        chunk.Dispose();
                        item.Buffer.Release();
                    }

                    await CreditAsync(item.Generation).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            if (!ReferenceEquals(ex, Volatile.Read(ref _chunkError)))
            {
                // A chunk error has already stopped the consumer (ChunkFailed); this is the handler's (or PostFilter's).
                ConsumerLog.HandlerFailed(_logger, Stream, ex);
                Close(ex);
            }
        }
    }

    /// <summary>
    /// Validates the header (and CRC) of a queued chunk and starts reading it. On failure the buffer is released and the
    /// consumer stops (<see cref="ChunkFailed"/>).
    /// </summary>
    private ChunkReader Open(in ChunkItem item, out long timestamp)
    {
        ulong? chunkId = null;
        try
        {
            var span = item.Chunk.Span;
            var header = ChunkHeader.Read(span, Stream);
            chunkId = header.ChunkId;
            if (_options.CrcCheck && header.IsUserChunk && !header.IsCrcValid(span))
            {
                throw new ChunkFormatException(
                    $"Chunk {header.ChunkId} of stream {Stream} failed CRC-32 validation (expected 0x{header.Crc:x8}).", header.ChunkId, Stream);
            }

            timestamp = header.Timestamp;

            // Never deliver an offset twice: after a resubscription the first chunk starts before the resume point.
            long last = Volatile.Read(ref _lastOffset);
            ulong min = last >= 0 ? Math.Max(_minOffset, (ulong)last + 1) : _minOffset;
            return new ChunkReader(item.Chunk, header, min, _options.MaxSubEntryUncompressedSize, Stream, _codecs);
        }
        catch (Exception ex)
        {
            item.Buffer.Release();
            var error = ChunkFailed(ex, chunkId);
            if (ReferenceEquals(error, ex))
            {
                throw;
            }

            throw error;
        }
    }

    /// <summary>
    /// The next record of <paramref name="chunk"/>. A malformed chunk stops the consumer (<see cref="ChunkFailed"/>) and
    /// throws its typed exception.
    /// </summary>
    private bool ReadNext(ref ChunkReader chunk, out ulong offset, out ReadOnlyMemory<byte> body)
    {
        try
        {
            return chunk.TryRead(out offset, out body);
        }
        catch (Exception ex)
        {
            var error = ChunkFailed(ex, chunk.ChunkId);
            if (ReferenceEquals(error, ex))
            {
                throw;
            }

            throw error;
        }
    }

    /// <summary>
    /// Reading a chunk failed: the consumer stops with the typed error (status <see cref="StreamStatus.Failed"/>,
    /// <see cref="Completion"/> faulted), which <see cref="ReadAllAsync"/> throws and the dispatch loop does not report as
    /// a handler failure. Anything but a <see cref="ChunkFormatException"/> or <see cref="UnsupportedCompressionException"/>
    /// (which the reader never throws by design) is wrapped in a <see cref="ChunkFormatException"/>.
    /// </summary>
    private Exception ChunkFailed(Exception ex, ulong? chunkId)
    {
        if (ex is OutOfMemoryException)
        {
            Close(ex);
            return ex;
        }

        Exception error = ex is ChunkFormatException or UnsupportedCompressionException
            ? ex
            : new ChunkFormatException($"Chunk {chunkId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(unknown id)"} of stream {Stream} could not be read: {ex.Message}", chunkId, Stream, ex);
        Volatile.Write(ref _chunkError, error);
        if (Volatile.Read(ref _closed) == 0)
        {
            _status.Raise(this, StatusChanged, _status.Change(StreamStatus.Failed, error.Message, error));
        }

        Close(error);
        return error;
    }

    private async ValueTask CreditAsync(int generation)
    {
        if (Volatile.Read(ref _closed) == 1 || generation != Volatile.Read(ref _generation) || (_sac && !_active))
        {
            return;
        }

        var ops = Volatile.Read(ref _ops);
        byte subscriptionId = _subscriptionId;
        try
        {
            await ops.CreditAsync(subscriptionId, 1).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ConsumerLog.CreditFailed(_logger, subscriptionId, Stream, ex);
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

    private readonly record struct ChunkItem(FrameBuffer Buffer, ReadOnlyMemory<byte> Chunk, int Generation);

    /// <summary>Routes one connection's subscription frames to the consumer, tagged with the connection generation.</summary>
    private sealed class Binding(Consumer consumer, int generation) : ISubscriptionFrameHandler
    {
        public void OnDeliver(FrameBuffer buffer, ReadOnlyMemory<byte> chunk, ulong? committedChunkId) =>
            consumer.OnDeliver(generation, buffer, chunk, committedChunkId);

        public void OnCreditError(ResponseCode code) => ConsumerLog.CreditError(consumer._logger, consumer._subscriptionId, consumer.Stream, code);

        public ValueTask<OffsetSpecification> OnConsumerUpdateAsync(bool active) => consumer.OnConsumerUpdateAsync(generation, active);

        public void OnMetadataUpdate(ResponseCode code) => consumer.OnConnectionLost(generation, null, code);

        public void OnConnectionClosed(ConnectionClosedEventArgs reason) => consumer.OnConnectionLost(generation, reason, null);
    }
}
