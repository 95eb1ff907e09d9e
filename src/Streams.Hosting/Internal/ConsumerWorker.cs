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
internal sealed partial class ConsumerWorker : IDisposable
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
    private readonly RecoveryPolicy _recovery;
    private readonly bool _waitForStream;
    private readonly int _maxBatch;
    private readonly string _handlerName;
    private readonly string? _partition;
    private readonly string _source;
    private readonly SemaphoreSlim _commitGate = new(1, 1);
    private readonly ConsumerTelemetry _telemetry;
    private readonly StreamContext.Source _contextSource;
    private readonly bool _lanes;
    private readonly bool _handlerDisposable;

    /// <summary>The handler takes <c>byte[]</c>: a body-alone entry's copied body is handed over as it is.</summary>
    private readonly bool _bodyAsBytes;
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
        _recovery = services.Options.Value.Recovery.ToRecoveryPolicy(services.Time, defaults.RecoveryDelay);
        _waitForStream = options.WaitForStream ?? defaults.WaitForStream;
        _maxBatch = defaults.MaxBatchSize;
        _handlerName = registration.HandlerType.Name;
        _contextSource = new StreamContext.Source(options.Stream, partition, options.Name);
        _lanes = options.MaxConcurrency > 1 && !registration.IsBatch;
        _bodyAsBytes = registration.MessageType == typeof(byte[]);
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
            Volatile.Read(ref _consumer)?.IsActive ?? true)
        {
            FilteredCount = _telemetry.Filtered,
        };
    }

    /// <summary>
    /// Subscribes once connected and the declared streams exist, and runs until the host stops. A lost connection is
    /// recovered by the client alone (same consumer, resuming after the last delivered offset: see
    /// <see cref="OnClientStatusChanged"/>); this loop subscribes again only when a subscription ended for good (its
    /// recovery failed or was off), at once the first time and then with the recovery back-off.
    /// </summary>
    public async Task RunAsync(CancellationToken stopping, CancellationToken abort)
    {
        // When the host starts stopping, store what is already processed right away (an in-flight handler may still
        // run until the shutdown timeout); the final store follows once it finished.
        using var onStopping = stopping.Register(static s => ((ConsumerWorker)s!).CommitFromTimer(), this);
        var attempt = 0;
        var waits = 0;
        DateTimeOffset? subscribedAt = null;
        while (!stopping.IsCancellationRequested)
        {
            Consumer? consumer = null;
            TimeSpan delay;
            try
            {
                StreamSystem system;
                try
                {
                    system = await _services.Topology.WhenReadyAsync(stopping).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The connection or the declared streams failed for good: the health check says why.
                    _lastError = ex;
                    SetState(StreamConsumerState.Faulted);
                    break;
                }

                if (_lanes)
                {
                    // Lanes run handlers concurrently: the client pushes decoded messages into a bounded channel.
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
                    subscribedAt = _services.Time.GetUtcNow();
                    await ProcessConcurrentlyAsync(channel.Reader, stopping, abort).ConfigureAwait(false);
                }
                else
                {
                    // In order, one message or one chunk's batch at a time: read straight from the client (no hand-off
                    // between threads).
                    var clientOptions = await BuildClientOptionsAsync(system, null, stopping).ConfigureAwait(false);
                    consumer = await system.CreateConsumerAsync(clientOptions, stopping).ConfigureAwait(false);
                    Subscribed(consumer, clientOptions);
                    subscribedAt = _services.Time.GetUtcNow();
                    if (_registration.IsBatch)
                    {
                        await ProcessBatchesSequentiallyAsync(consumer, stopping, abort).ConfigureAwait(false);
                    }
                    else
                    {
                        await ProcessSequentiallyAsync(consumer, stopping, abort).ConfigureAwait(false);
                    }
                }

                stopping.ThrowIfCancellationRequested();
                throw new StreamClientException($"The subscription to '{_source}' ended.");
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
            catch (StreamDeletedException ex)
            {
                // The client saw the stream deleted under the subscription: it ends for good, and so does this consumer.
                _lastError = ex;
                SetState(StreamConsumerState.Faulted);
                Log.ConsumerFaulted(_services.Logger, _handlerName, _source, ex);
                break;
            }
            catch (StreamDoesNotExistException ex) when (subscribedAt is not null || Interlocked.Read(ref _lastProcessed) >= 0)
            {
                // The stream was deleted under a running consumer: its offsets mean nothing for a re-created stream.
                _lastError = ex;
                SetState(StreamConsumerState.Faulted);
                Log.ConsumerFaulted(_services.Logger, _handlerName, _source, ex);
                break;
            }
            catch (StreamDoesNotExistException ex) when (!_waitForStream)
            {
                // Neither declared nor created: retrying cannot help until someone creates it.
                _lastError = new StreamDoesNotExistException(_source, MissingStreamMessage(waiting: false) + $" ({ex.Message})");
                SetState(StreamConsumerState.Faulted);
                Log.ConsumerFaulted(_services.Logger, _handlerName, _source, _lastError);
                break;
            }
            catch (StreamDoesNotExistException)
            {
                waits++;
                delay = _recovery.GetDelay(waits, Random.Shared.NextDouble());
                _lastError = new StreamDoesNotExistException(_source, MissingStreamMessage(waiting: true));
                SetState(StreamConsumerState.WaitingForStream);
                Log.WaitingForStream(_services.Logger, _handlerName, _source, delay);
            }
            catch (RecoveryFailedException ex)
            {
                // The client's recovery ran out of RabbitStreams:Recovery:MaxAttempts.
                _lastError = ex;
                SetState(StreamConsumerState.Faulted);
                Log.ConsumerFaulted(_services.Logger, _handlerName, _source, ex);
                break;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The subscription ended for good (its recovery failed or is off), or subscribing failed (leader moved,
                // stream not available yet): subscribe again, at once the first time, then with the recovery back-off.
                if (subscribedAt is { } at && _services.Time.GetUtcNow() - at >= _recovery.ResetAfter)
                {
                    attempt = 0;
                }

                delay = attempt == 0 ? TimeSpan.Zero : _recovery.GetDelay(attempt, Random.Shared.NextDouble());
                attempt++;
                _lastError = ex;
                if (attempt > (_recovery.MaxAttempts ?? int.MaxValue))
                {
                    _lastError = new RecoveryFailedException(_source, attempt - 1, ex);
                    SetState(StreamConsumerState.Faulted);
                    Log.ConsumerFaulted(_services.Logger, _handlerName, _source, _lastError);
                    break;
                }

                SetState(StreamConsumerState.Recovering);
                Log.ConsumerRecovering(_services.Logger, _handlerName, _source, delay, ex);
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
                await Task.Delay(delay, _services.Time, stopping).ConfigureAwait(false);
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

    private string MissingStreamMessage(bool waiting)
    {
        var declare = _partition is null
            ? $"declare it with AddStream(\"{_source}\")"
            : $"declare super stream '{_options.Stream}' with AddSuperStream(\"{_options.Stream}\", partitions)";
        return waiting
            ? $"Stream consumer '{_registration}': waiting for stream '{_source}' to be created (WaitForStream is on; {declare} or create it on the broker)."
            : $"Stream consumer '{_registration}': stream '{_source}' does not exist: {declare} or create it on the broker first, " +
              "or set WaitForStream (RabbitStreams:Consumers:WaitForStream, or per consumer) to wait until it exists.";
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
                Log.ConsumerClientRecovering(_services.Logger, _handlerName, _source, e.Exception);
                break;
            case StreamStatus.Recovered or StreamStatus.Connected when _state == StreamConsumerState.Recovering:
                Log.ConsumerClientRecovered(_services.Logger, _handlerName, _source);
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
            Recovery = _recovery,
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

    /// <summary>
    /// One read message on its way to the handler: decoded (<see cref="Message"/>); a body alone (<see cref="Body"/>:
    /// an entry that is one data section and nothing else), whose message is built only when something asks for it
    /// (<see cref="GetMessage"/>); an entry that is not AMQP at all, with both (its bytes as <see cref="Body"/> for a
    /// <c>byte[]</c> handler, and the raw <see cref="Message"/> around them); or kept as the stored bytes with the
    /// decoding error (<see cref="Undecodable"/>) for the failure policy.
    /// </summary>
    private readonly record struct Item(ulong Offset, ulong ChunkId, DateTimeOffset Timestamp, Message? Message, byte[]? Body, Undecodable? Undecodable)
    {
        /// <summary>The decoded message, or one built around <see cref="Body"/>; null for an undecodable entry.</summary>
        public Message? GetMessage() => Message ?? (Body is { } body ? new Message(body) : null);

        /// <summary>The decoded message, or the body alone (for <see cref="StreamContext"/>, which builds the message when read).</summary>
        public object? Payload => (object?)Message ?? Body;

        /// <summary>Excluded by <see cref="StreamConsumerOptions.FilterValues"/>: processed without calling the handler.</summary>
        public bool Filtered { get; init; }
    }

    /// <summary>An entry that is not a valid AMQP 1.0 message: its bytes (copied) and why it could not be decoded.</summary>
    private sealed record Undecodable(byte[] Entry, Exception Error);

    private sealed class ConsumerStoppedException(Exception inner) : Exception(inner.Message, inner);
}
