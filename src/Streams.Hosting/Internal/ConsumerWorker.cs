using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Streams.Client;
using Streams.Hosting.Telemetry;

namespace Streams.Hosting.Internal;

/// <summary>
/// One hosted consumer: subscribes (and subscribes again after failures), decodes, deserializes, invokes the handler
/// in a fresh scope, applies the failure policy, and stores the offset of the last processed message every N
/// messages, every T and when it stops.
/// </summary>
internal sealed class ConsumerWorker : IDisposable
{
    private const int MaxHeaderTextLength = 4096;

    private readonly ConsumerRegistration _registration;
    private readonly ConsumerWorkerServices _services;
    private readonly StreamConsumerOptions _options;
    private readonly HandlerFailurePolicy _policy;
    private readonly HandlerInvoker _invoker;
    private readonly ObjectFactory _factory;
    private readonly bool _resolveFromContainer;
    private readonly object[]? _singletonArguments;
    private readonly int _commitEvery;
    private readonly TimeSpan _commitInterval;
    private readonly TimeSpan _recoveryDelay;
    private readonly int _maxBatch;
    private readonly string _handlerName;
    private readonly string? _partition;
    private readonly string _source;
    private readonly SemaphoreSlim _commitGate = new(1, 1);
    private readonly ConsumerTelemetry _telemetry;
    private readonly StreamContext.Source _contextSource;
    private readonly bool _lanes;
    private readonly bool _handlerDisposable;
    private bool _disposed;
    private Consumer? _consumer;
    private long _lastProcessed = -1;
    private long _lastStored = -1;
    private long _processedCount;
    private long _committedCount;
    private long _handled;
    private long _failed;
    private volatile StreamConsumerState _state = StreamConsumerState.Starting;
    private volatile Exception? _lastError;

    public ConsumerWorker(ConsumerRegistration registration, StreamConsumerOptions options, string? partition, RabbitStreamsConsumerOptions defaults, ConsumerWorkerServices services)
    {
        _registration = registration;
        _services = services;
        _options = options;
        _partition = partition;
        _source = partition ?? options.Stream;
        _policy = (_options.FailurePolicy ?? defaults.FailurePolicy).Clone();
        _invoker = HandlerInvoker.Create(registration.MessageType);
        _resolveFromContainer = services.IsService.IsService(registration.HandlerType);
        var singletons = _resolveFromContainer ? null : services.ScopeAnalyzer.FindSingletonArguments(registration.HandlerType, services.Scopes);
        _singletonArguments = singletons?.Values;
        _factory = ActivatorUtilities.CreateFactory(registration.HandlerType, singletons?.Types ?? Type.EmptyTypes);
        _commitEvery = _options.CommitEveryMessages ?? defaults.CommitEveryMessages;
        _commitInterval = _options.CommitInterval ?? defaults.CommitInterval;
        _recoveryDelay = defaults.RecoveryDelay;
        _maxBatch = defaults.MaxBatchSize;
        _handlerName = registration.HandlerType.Name;
        _contextSource = new StreamContext.Source(options.Stream, partition, options.Name);
        _lanes = options.MaxConcurrency > 1 && !registration.IsBatch;
        _handlerDisposable = typeof(IDisposable).IsAssignableFrom(registration.HandlerType) || typeof(IAsyncDisposable).IsAssignableFrom(registration.HandlerType);
        _telemetry = services.Telemetry.AddConsumer(registration.HandlerType, options.Stream, partition, options.Name, GetStatus, concurrent: _lanes);
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        _telemetry.Dispose();
        _commitGate.Dispose();
    }

    public StreamConsumerStatus GetStatus()
    {
        long processed = Interlocked.Read(ref _lastProcessed);
        long stored = Interlocked.Read(ref _lastStored);
        return new StreamConsumerStatus(
            _registration.HandlerType,
            _options.Stream,
            _partition,
            _options.Name,
            _state,
            processed < 0 ? null : (ulong)processed,
            stored < 0 ? null : (ulong)stored,
            Interlocked.Read(ref _handled),
            Interlocked.Read(ref _failed),
            _lastError,
            Volatile.Read(ref _consumer)?.IsActive ?? true);
    }

    public async Task RunAsync(CancellationToken stopping, CancellationToken abort)
    {
        // When the host starts stopping, store what is already processed right away (an in-flight handler may still
        // run until the shutdown timeout); the final store follows once it finished.
        using var onStopping = stopping.Register(static s => ((ConsumerWorker)s!).CommitFromTimer(), this);
        while (!stopping.IsCancellationRequested)
        {
            Consumer? consumer = null;
            try
            {
                var system = await _services.Systems.GetAsync(stopping).ConfigureAwait(false);
                if (_registration.IsBatch || _options.MaxConcurrency > 1)
                {
                    // Batches and lanes need to look ahead: the client pushes decoded messages into a bounded channel.
                    var channel = Channel.CreateBounded<Item>(new BoundedChannelOptions(Math.Max(64, _maxBatch))
                    {
                        SingleReader = true,
                        SingleWriter = true,
                        FullMode = BoundedChannelFullMode.Wait,
                    });
                    var clientOptions = await BuildClientOptionsAsync(system, channel.Writer, stopping).ConfigureAwait(false);
                    consumer = await system.CreateConsumerAsync(clientOptions, stopping).ConfigureAwait(false);
                    _ = consumer.Completion.ContinueWith(
                        static (t, w) => ((ChannelWriter<Item>)w!).TryComplete(t.Exception?.InnerException ?? new StreamClientException("The consumer ended.")),
                        channel.Writer,
                        CancellationToken.None,
                        TaskContinuationOptions.ExecuteSynchronously,
                        TaskScheduler.Default);
                    Subscribed(consumer, clientOptions);
                    await ProcessAsync(channel.Reader, stopping, abort).ConfigureAwait(false);
                }
                else
                {
                    // One at a time, in order: read straight from the client (no hand-off between threads).
                    var clientOptions = await BuildClientOptionsAsync(system, null, stopping).ConfigureAwait(false);
                    consumer = await system.CreateConsumerAsync(clientOptions, stopping).ConfigureAwait(false);
                    Subscribed(consumer, clientOptions);
                    await ProcessSequentiallyAsync(consumer, stopping, abort).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (ConsumerStoppedException ex)
            {
                _lastError = ex.InnerException;
                SetState(StreamConsumerState.Faulted);
                break;
            }
            catch (StreamDoesNotExistException ex) when (Interlocked.Read(ref _lastProcessed) >= 0)
            {
                // The stream was deleted under a running consumer: its offsets mean nothing for a re-created stream.
                _lastError = ex;
                SetState(StreamConsumerState.Faulted);
                Log.ConsumerFaulted(_services.Logger, _handlerName, _source, ex);
                break;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Connection lost, leader moved, stream not available yet (or not created yet): subscribe again later.
                _lastError = ex;
                SetState(StreamConsumerState.Recovering);
                Log.ConsumerRecovering(_services.Logger, _handlerName, _source, _recoveryDelay, ex);
            }
            finally
            {
                await CommitAsync().ConfigureAwait(false);
                if (consumer is not null)
                {
                    Volatile.Write(ref _consumer, null);
                    await DisposeQuietlyAsync(consumer).ConfigureAwait(false);
                }
            }

            try
            {
                await Task.Delay(_recoveryDelay, _services.Time, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        if (_state != StreamConsumerState.Faulted)
        {
            SetState(StreamConsumerState.Stopped);
            long last = Interlocked.Read(ref _lastProcessed);
            Log.ConsumerStopped(_services.Logger, _handlerName, _source, last < 0 ? null : (ulong)last);
        }
    }

    private void SetState(StreamConsumerState state)
    {
        _state = state;
        _telemetry.SetState(state);
    }

    private void Subscribed(Consumer consumer, ConsumerOptions options)
    {
        Volatile.Write(ref _consumer, consumer);
        consumer.StatusChanged += OnClientStatusChanged;
        Log.ConsumerSubscribed(_services.Logger, _handlerName, _source, _options.Name, options.Offset.ToString());
        SetState(StreamConsumerState.Running);
    }

    /// <summary>
    /// The client recovers a lost subscription itself (same consumer, resuming after the last delivered offset):
    /// mirror its status so that health checks, metrics and the status API see the outage.
    /// </summary>
    private void OnClientStatusChanged(object? sender, StreamStatusChangedEventArgs e)
    {
        switch (e.Status)
        {
            case StreamStatus.Reconnecting when _state == StreamConsumerState.Running:
                _lastError = e.Exception ?? _lastError;
                SetState(StreamConsumerState.Recovering);
                Log.ConsumerRecovering(_services.Logger, _handlerName, _source, _recoveryDelay, e.Exception);
                break;
            case StreamStatus.Recovered or StreamStatus.Connected when _state == StreamConsumerState.Recovering:
                SetState(StreamConsumerState.Running);
                break;
        }
    }

    private async Task<ConsumerOptions> BuildClientOptionsAsync(StreamSystem system, ChannelWriter<Item>? writer, CancellationToken cancellationToken)
    {
        var options = new ConsumerOptions(_source)
        {
            Name = _options.Name,
            ResumeFromStoredOffset = false,
            Offset = _options.Offset,
            Handler = writer is null ? null : (delivery, ct) => EnqueueAsync(writer, delivery, ct),
            FilterValues = _options.FilterValues is { Count: > 0 } filters ? filters : null,
            MatchUnfiltered = _options.MatchUnfiltered,
            Recovery = new RecoveryPolicy
            {
                InitialDelay = _recoveryDelay,
                MaxDelay = _recoveryDelay > TimeSpan.FromSeconds(30) ? _recoveryDelay : TimeSpan.FromSeconds(30),
                TimeProvider = _services.Time,
            },
        };

        long last = Interlocked.Read(ref _lastProcessed);
        if (_options.SingleActiveConsumer)
        {
            // The client resolves the start when the broker activates this consumer: stored offset + 1, else Offset.
            options.ResumeFromStoredOffset = true;
            options.SingleActiveConsumer = true;
            if (_partition is not null)
            {
                // The broker spreads the partitions of one super stream over the group's members.
                options.Properties = new Dictionary<string, string>(StringComparer.Ordinal) { ["super-stream"] = _options.Stream };
            }
        }
        else if (last >= 0)
        {
            // Re-subscribing after a failure: continue after the last message this process handled.
            options.Offset = OffsetSpecification.Offset((ulong)last + 1);
        }
        else if (_options.Name is { } name
            && await system.QueryOffsetAsync(name, _source, cancellationToken).ConfigureAwait(false) is { } stored)
        {
            Interlocked.Exchange(ref _lastStored, (long)stored);
            options.Offset = OffsetSpecification.Offset(stored + 1);
        }

        return options;
    }

    /// <summary>The client-side re-check of broker filtering (Bloom filters let other values through).</summary>
    private bool Matches(in Item item)
    {
        if (_options.FilterValues is not { Count: > 0 } filters || item.Message is not { } message)
        {
            return true;
        }

        var value = message.ApplicationProperties is { } headers && headers.TryGetValue(PublishOptions.FilterValueHeader, out var v) ? v as string : null;
        return value is null ? _options.MatchUnfiltered : filters.Contains(value);
    }

    private ValueTask EnqueueAsync(ChannelWriter<Item> writer, Delivery delivery, CancellationToken cancellationToken)
    {
        var item = ToItem(delivery);
        if (!Matches(item))
        {
            // Still goes through the channel so that the offset watermark moves past it.
            item = item with { Filtered = true };
        }

        return writer.TryWrite(item) ? ValueTask.CompletedTask : writer.WriteAsync(item, cancellationToken);
    }

    /// <summary>
    /// Decodes a delivery into a detached message: its body is only valid until the client moves on. An entry that is not AMQP 1.0
    /// (written by a raw producer) becomes a message whose body is the entry's bytes.
    /// </summary>
    private static Item ToItem(Delivery delivery)
    {
        try
        {
            if (!Message.LooksLikeAmqp(delivery.Body.Span))
            {
                return new Item(delivery.Offset, delivery.ChunkId, delivery.Timestamp, new Message(delivery.Body.ToArray()), null, null);
            }

            // Decode in place, then copy only the body out of the client's buffer (not the whole entry).
            var message = Message.Decode(delivery.Body);
            message.CopyBody();
            return new Item(delivery.Offset, delivery.ChunkId, delivery.Timestamp, message, null, null);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new Item(delivery.Offset, delivery.ChunkId, delivery.Timestamp, null, delivery.Body.ToArray(), ex);
        }
    }

    private async Task ProcessSequentiallyAsync(Consumer consumer, CancellationToken stopping, CancellationToken abort)
    {
        using var timer = _options.Name is null
            ? null
            : _services.Time.CreateTimer(static s => ((ConsumerWorker)s!).CommitFromTimer(), this, _commitInterval, _commitInterval);
        await foreach (var delivery in consumer.ReadAllAsync(stopping).ConfigureAwait(false))
        {
            // Only the offset lives across the await: the common, synchronous case stores nothing in the state machine.
            var offset = delivery.Offset;
            var handled = HandleDelivery(delivery, stopping, abort);
            if (!handled.IsCompletedSuccessfully)
            {
                await handled.ConfigureAwait(false);
            }

            MarkProcessed(offset, 1);
            if (Uncommitted >= _commitEvery)
            {
                await CommitAsync().ConfigureAwait(false);
            }

            // Buffered messages are yielded without looking at the token: stop after the message in hand.
            stopping.ThrowIfCancellationRequested();
        }

        stopping.ThrowIfCancellationRequested();
        throw new StreamClientException($"The consumer of stream '{_source}' ended.");
    }

    /// <remarks>
    /// Not inlined into the read loop on purpose: that loop rarely returns (messages are buffered), so its state
    /// machine keeps running the code it was entered with (an on-stack-replacement version); a separate method is
    /// called per message and gets fully optimized with profile data.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Task HandleDelivery(in Delivery delivery, CancellationToken stopping, CancellationToken abort)
    {
        var item = ToItem(delivery);
        return Matches(item) ? HandleOneAsync(item, stopping, abort) : Task.CompletedTask;
    }

    private async Task ProcessAsync(ChannelReader<Item> reader, CancellationToken stopping, CancellationToken abort)
    {
        using var timer = _options.Name is null
            ? null
            : _services.Time.CreateTimer(static s => ((ConsumerWorker)s!).CommitFromTimer(), this, _commitInterval, _commitInterval);
        if (_options.MaxConcurrency > 1 && !_registration.IsBatch)
        {
            await ProcessConcurrentlyAsync(reader, stopping, abort).ConfigureAwait(false);
            return;
        }

        var batch = _registration.IsBatch ? new List<Item>(_maxBatch) : null;
        while (true)
        {
            stopping.ThrowIfCancellationRequested();
            if (!reader.TryRead(out var item))
            {
                item = await reader.ReadAsync(stopping).ConfigureAwait(false);
            }

            if (batch is null)
            {
                await HandleOneAsync(item, stopping, abort).ConfigureAwait(false);
                MarkProcessed(item.Offset, 1);
            }
            else
            {
                batch.Clear();
                batch.Add(item);
                while (batch.Count < _maxBatch && reader.TryPeek(out var next) && next.ChunkId == item.ChunkId && reader.TryRead(out next))
                {
                    batch.Add(next);
                }

                await HandleBatchAsync(batch, stopping, abort).ConfigureAwait(false);
                MarkProcessed(batch[^1].Offset, batch.Count);
            }

            if (Uncommitted >= _commitEvery)
            {
                await CommitAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Up to MaxConcurrency handlers at once: messages with the same AMQP group-id go to the same lane (kept in order),
    /// messages without one are spread over the lanes. The committed offset is the watermark below the oldest
    /// message not finished yet, so a restart never skips an unfinished message.
    /// </summary>
    private async Task ProcessConcurrentlyAsync(ChannelReader<Item> reader, CancellationToken stopping, CancellationToken abort)
    {
        var laneCount = _options.MaxConcurrency;
        var watermark = new OffsetWatermark();
        using var halt = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var lanes = new Channel<Item>[laneCount];
        var tasks = new Task[laneCount];
        for (var i = 0; i < laneCount; i++)
        {
            var lane = lanes[i] = Channel.CreateBounded<Item>(new BoundedChannelOptions(8) { SingleReader = true, SingleWriter = true });
            tasks[i] = Task.Run(() => RunLaneAsync(lane.Reader, watermark, halt, abort), CancellationToken.None);
        }

        Exception? readError = null;
        var spread = 0;
        try
        {
            while (true)
            {
                var item = await reader.ReadAsync(halt.Token).ConfigureAwait(false);
                var key = item.Message?.Properties?.GroupId;
                var index = key is null
                    ? (int)((uint)spread++ % (uint)laneCount)
                    : (int)((uint)StringComparer.Ordinal.GetHashCode(key) % (uint)laneCount);
                watermark.Add(item.Offset);
                await lanes[index].Writer.WriteAsync(item, halt.Token).ConfigureAwait(false);
                if (Uncommitted >= _commitEvery)
                {
                    await CommitAsync().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (halt.IsCancellationRequested)
        {
            // Stopping, or a lane stopped the consumer.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            readError = ex;
        }
        finally
        {
            await halt.CancelAsync().ConfigureAwait(false);
            foreach (var lane in lanes)
            {
                lane.Writer.TryComplete();
            }

            try
            {
                await Task.WhenAll(tasks).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Inspected below.
            }
        }

        var stopped = tasks.Select(t => t.Exception?.InnerException).OfType<ConsumerStoppedException>().FirstOrDefault();
        if (stopped is not null)
        {
            throw stopped;
        }

        if (tasks.Select(t => t.Exception?.InnerException).FirstOrDefault(e => e is not null and not OperationCanceledException) is { } laneError)
        {
            throw laneError;
        }

        if (readError is not null)
        {
            throw readError;
        }

        stopping.ThrowIfCancellationRequested();
    }

    private async Task RunLaneAsync(ChannelReader<Item> lane, OffsetWatermark watermark, CancellationTokenSource halt, CancellationToken abort)
    {
        try
        {
            while (await lane.WaitToReadAsync(halt.Token).ConfigureAwait(false))
            {
                while (!halt.IsCancellationRequested && lane.TryRead(out var item))
                {
                    await HandleOneAsync(item, halt.Token, abort).ConfigureAwait(false);
                    var done = watermark.Complete(item.Offset);
                    if (done >= 0)
                    {
                        InterlockedMax(ref _lastProcessed, done);
                    }

                    Interlocked.Increment(ref _processedCount);
                }
            }
        }
        catch (ConsumerStoppedException)
        {
            await halt.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while ((current = Interlocked.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    /// <summary>
    /// Handles one message: the first attempt completes without an async state machine when the handler does
    /// (the common case on the hot path); failures and asynchronous handlers continue in <see cref="HandleOneSlowAsync"/>.
    /// </summary>
    private Task HandleOneAsync(Item item, CancellationToken stopping, CancellationToken abort)
    {
        if (item.Filtered)
        {
            return Task.CompletedTask;
        }

        if (!TryDeserialize(item, out var message, out var error))
        {
            return FailAsync([item], error, attempts: 0, stopping);
        }

        var scope = CreateScope();
        object? handler = null;
        Task invocation;
        try
        {
            handler = CreateHandler(scope);
            invocation = _telemetry.InvokeAsync(_invoker, handler, message, CreateContext(item, 1), abort);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            invocation = Task.FromException(ex);
        }

        if (invocation.IsCompletedSuccessfully && (_resolveFromContainer || !_handlerDisposable))
        {
            if (scope is not { } created)
            {
                CountHandled(1);
                return Task.CompletedTask;
            }

            var disposal = created.DisposeAsync();
            if (disposal.IsCompletedSuccessfully)
            {
                CountHandled(1);
                return Task.CompletedTask;
            }

            return CompleteAsync(disposal);
        }

        return HandleOneSlowAsync(item, message, invocation, handler, scope, stopping, abort);
    }

    private async Task CompleteAsync(ValueTask disposal)
    {
        await disposal.ConfigureAwait(false);
        CountHandled(1);
    }

    private async Task HandleOneSlowAsync(Item item, object? message, Task firstInvocation, object? firstHandler, AsyncServiceScope? firstScope, CancellationToken stopping, CancellationToken abort)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (attempt == 1)
                {
                    await using (new ScopeLease(firstScope).ConfigureAwait(false))
                    {
                        try
                        {
                            await firstInvocation.ConfigureAwait(false);
                        }
                        finally
                        {
                            if (firstHandler is not null)
                            {
                                await ReleaseHandlerAsync(firstHandler).ConfigureAwait(false);
                            }
                        }
                    }
                }
                else
                {
                    var scope = CreateScope();
                    await using (new ScopeLease(scope).ConfigureAwait(false))
                    {
                        var handler = CreateHandler(scope);
                        try
                        {
                            await _telemetry.InvokeAsync(_invoker, handler, message, CreateContext(item, attempt), abort).ConfigureAwait(false);
                        }
                        finally
                        {
                            await ReleaseHandlerAsync(handler).ConfigureAwait(false);
                        }
                    }
                }

                CountHandled(1);
                return;
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                throw new OperationCanceledException("The host's shutdown timeout elapsed while a handler was running; its message is not committed.", stopping);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                if (!await RetryAsync(item, attempt, ex, stopping).ConfigureAwait(false))
                {
                    await FailAsync([item], ex, attempt, stopping).ConfigureAwait(false);
                    return;
                }
            }
        }
    }

    private async Task HandleBatchAsync(List<Item> items, CancellationToken stopping, CancellationToken abort)
    {
        var valid = new List<Item>(items.Count);
        var messages = new List<object?>(items.Count);
        foreach (var item in items)
        {
            if (item.Filtered)
            {
                continue;
            }

            if (TryDeserialize(item, out var message, out var error))
            {
                valid.Add(item);
                messages.Add(message);
            }
            else
            {
                await FailAsync([item], error, attempts: 0, stopping).ConfigureAwait(false);
            }
        }

        if (valid.Count == 0)
        {
            return;
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var batch = new (object? Message, StreamContext Context)[valid.Count];
                for (var i = 0; i < batch.Length; i++)
                {
                    batch[i] = (messages[i], CreateContext(valid[i], attempt));
                }

                var scope = CreateScope();
                await using (new ScopeLease(scope).ConfigureAwait(false))
                {
                    var handler = CreateHandler(scope);
                    try
                    {
                        await _telemetry.InvokeBatchAsync(_invoker, handler, batch, abort).ConfigureAwait(false);
                    }
                    finally
                    {
                        await ReleaseHandlerAsync(handler).ConfigureAwait(false);
                    }
                }

                CountHandled(valid.Count);
                return;
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                throw new OperationCanceledException("The host's shutdown timeout elapsed while a handler was running; its batch is not committed.", stopping);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                if (!await RetryAsync(valid[0], attempt, ex, stopping).ConfigureAwait(false))
                {
                    await FailAsync(valid, ex, attempt, stopping).ConfigureAwait(false);
                    return;
                }
            }
        }
    }

    /// <summary>Waits before the next attempt; false when the retries are exhausted.</summary>
    private async Task<bool> RetryAsync(Item item, int attempt, Exception error, CancellationToken stopping)
    {
        if (attempt > _policy.MaxRetries)
        {
            return false;
        }

        var delay = _policy.GetRetryDelay(attempt);
        Log.HandlerRetrying(_services.Logger, _handlerName, _source, item.Offset, attempt, delay, error);
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, _services.Time, stopping).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>A fresh scope for one invocation; none when the handler depends on singletons only (see <see cref="HandlerScopeAnalyzer"/>).</summary>
    private AsyncServiceScope? CreateScope() => _singletonArguments is null ? _services.Scopes.CreateAsyncScope() : null;

    /// <summary>
    /// The handler for one message (or batch): the instance registered in DI when the application registered the
    /// handler type itself (its lifetime applies), else a new instance activated from the scope (like a controller).
    /// </summary>
    private object CreateHandler(AsyncServiceScope? scope)
    {
        if (scope is not { } created)
        {
            return _factory(_services.Root, _singletonArguments);
        }

        return _resolveFromContainer
            ? created.ServiceProvider.GetRequiredService(_registration.HandlerType)
            : _factory(created.ServiceProvider, null);
    }

    private async ValueTask ReleaseHandlerAsync(object handler)
    {
        if (_resolveFromContainer)
        {
            return;
        }

        if (handler is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync().ConfigureAwait(false);
        }
        else if (handler is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    private bool TryDeserialize(in Item item, out object? message, out Exception error)
    {
        if (item.DecodeError is not null)
        {
            message = null;
            error = new StreamMessageFormatException($"Message {_source}@{item.Offset} is not a valid AMQP 1.0 message: {item.DecodeError.Message}", item.DecodeError);
            return false;
        }

        try
        {
            message = _invoker.Deserialize(_services.Serialization, item.Message!);
            error = null!;
            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            message = null;
            error = new StreamMessageFormatException(
                $"Message {_source}@{item.Offset} (content type '{item.Message!.Properties?.ContentType}') could not be deserialized to {_registration.MessageType.Name}: {ex.Message}", ex);
            return false;
        }
    }

    private async Task FailAsync(IReadOnlyList<Item> items, Exception error, int attempts, CancellationToken stopping)
    {
        Interlocked.Add(ref _failed, items.Count);
        _lastError = error;
        switch (_policy.AfterRetries)
        {
            case FailureAction.Skip:
                foreach (var item in items)
                {
                    Log.MessageSkipped(_services.Logger, _handlerName, _source, item.Offset, attempts, error);
                }

                break;

            case FailureAction.DeadLetter:
                var deadLetterStream = _policy.GetDeadLetterStream(_source);
                foreach (var item in items)
                {
                    try
                    {
                        if (_policy.CreateDeadLetterStream)
                        {
                            await _services.EnsureDeadLetterStreamAsync(deadLetterStream, stopping).ConfigureAwait(false);
                        }

                        await _services.Publisher.SendAsync(deadLetterStream, ToDeadLetter(item, error, attempts), null, stopping).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                    {
                        throw;
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        Log.DeadLetterFailed(_services.Logger, _handlerName, _source, item.Offset, deadLetterStream, ex);
                        throw new ConsumerStoppedException(ex);
                    }

                    Log.MessageDeadLettered(_services.Logger, _handlerName, _source, item.Offset, attempts, deadLetterStream, error);
                    _telemetry.DeadLettered(1);
                }

                break;

            default:
                Log.ConsumerStoppedByPolicy(_services.Logger, _handlerName, _source, items[0].Offset, attempts, error);
                throw new ConsumerStoppedException(error);
        }
    }

    private Message ToDeadLetter(Item item, Exception error, int attempts)
    {
        var message = item.Message ?? new Message(item.RawBody);
        var headers = message.ApplicationProperties ??= new Dictionary<string, object?>(StringComparer.Ordinal);
        headers["x-exception-type"] = error.GetType().FullName;
        headers["x-exception-message"] = error.Message.Length > MaxHeaderTextLength ? error.Message[..MaxHeaderTextLength] : error.Message;
        headers["x-original-stream"] = _source;
        headers["x-original-offset"] = (long)item.Offset;
        headers["x-delivery-attempts"] = attempts;
        headers["x-failed-at"] = _services.Time.GetUtcNow();
        if (_options.Name is not null)
        {
            headers["x-consumer-name"] = _options.Name;
        }

        return message;
    }

    private StreamContext CreateContext(in Item item, int attempt) =>
        new(_contextSource, item.Offset, item.Timestamp, attempt, item.Message!);

    /// <summary>Messages processed since the last stored offset.</summary>
    private long Uncommitted => Volatile.Read(ref _processedCount) - Volatile.Read(ref _committedCount);

    /// <summary>Counts handled messages: one writer (the read loop) unless lanes run handlers concurrently.</summary>
    private void CountHandled(int count)
    {
        if (_lanes)
        {
            Interlocked.Add(ref _handled, count);
        }
        else
        {
            Volatile.Write(ref _handled, _handled + count);
        }
    }

    private void MarkProcessed(ulong offset, int count)
    {
        // Single writer (the processing loop); readers use Interlocked.Read.
        Volatile.Write(ref _lastProcessed, (long)offset);
        Volatile.Write(ref _processedCount, _processedCount + count);
    }

    private void CommitFromTimer()
    {
        if (Volatile.Read(ref _disposed))
        {
            return;
        }

        _ = CommitAsync().ContinueWith(
            static t => _ = t.Exception, // Only an ObjectDisposedException at shutdown can get here.
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Stores the last processed offset when it moved (named consumers only). Never throws.</summary>
    private async Task CommitAsync()
    {
        if (_options.Name is not { } name)
        {
            return;
        }

        await _commitGate.WaitAsync().ConfigureAwait(false);
        long processed = Volatile.Read(ref _processedCount);
        long last = Interlocked.Read(ref _lastProcessed);
        try
        {
            if (last < 0 || last <= Interlocked.Read(ref _lastStored))
            {
                return;
            }

            using var timeout = new CancellationTokenSource(_services.Options.Value.RequestTimeout, _services.Time);
            var system = await _services.Systems.GetAsync(timeout.Token).ConfigureAwait(false);
            await StoreOffsetAsync(system, name, (ulong)last, timeout.Token).ConfigureAwait(false);
            Interlocked.Exchange(ref _lastStored, last);
            Volatile.Write(ref _committedCount, processed);
            Log.OffsetStored(_services.Logger, name, _source, (ulong)last);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.OffsetStoreFailed(_services.Logger, name, _source, (ulong)last, ex);
        }
        finally
        {
            _commitGate.Release();
        }
    }

    /// <summary>Stores an offset inside a <c>settle</c> span.</summary>
    private async Task StoreOffsetAsync(StreamSystem system, string name, ulong offset, CancellationToken cancellationToken)
    {
        var settle = _telemetry.StartSettle(offset);
        var start = _services.Time.GetTimestamp();
        try
        {
            await system.StoreOffsetAsync(name, _source, offset, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _telemetry.Settled(settle, start, ex);
            throw;
        }

        _telemetry.Settled(settle, start, null);
    }

    private static async Task DisposeQuietlyAsync(Consumer consumer)
    {
        try
        {
            await consumer.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The subscription is gone either way.
        }
    }

    /// <summary>Offsets handed to lanes and not finished yet.</summary>
    private sealed class OffsetWatermark
    {
        private readonly SortedSet<ulong> _pending = [];
        private long _highest = -1;

        public void Add(ulong offset)
        {
            lock (_pending)
            {
                _pending.Add(offset);
                _highest = (long)offset;
            }
        }

        /// <summary>Marks <paramref name="offset"/> done; returns the highest offset below which everything is done (-1 when none).</summary>
        public long Complete(ulong offset)
        {
            lock (_pending)
            {
                _pending.Remove(offset);
                return _pending.Count == 0 ? _highest : (long)_pending.Min - 1;
            }
        }
    }

    private readonly record struct Item(ulong Offset, ulong ChunkId, DateTimeOffset Timestamp, Message? Message, byte[]? RawBody, Exception? DecodeError)
    {
        /// <summary>Excluded by <see cref="StreamConsumerOptions.FilterValues"/>: processed without calling the handler.</summary>
        public bool Filtered { get; init; }
    }

    private sealed class ConsumerStoppedException(Exception inner) : Exception(inner.Message, inner);

    /// <summary>Disposes an invocation's scope, if it has one.</summary>
    private readonly struct ScopeLease(AsyncServiceScope? scope) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => scope is { } created ? created.DisposeAsync() : ValueTask.CompletedTask;
    }
}
