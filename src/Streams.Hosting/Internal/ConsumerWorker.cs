using Streams.Client;
using Streams.Hosting.Internal.Backend;
using Streams.Hosting.Internal.Control;
using Streams.Hosting.Internal.Pipeline;
using Streams.Hosting.Telemetry;

namespace Streams.Hosting.Internal;

/// <summary>
/// One hosted consumer: subscribes through the backend (and subscribes again after failures), runs the deliveries
/// through its <see cref="ConsumerPipeline"/>, stores the offset when a subscription ends, and reports its status.
/// </summary>
internal sealed class ConsumerWorker : IDisposable
{
    private readonly ConsumerRegistration _registration;
    private readonly ConsumerWorkerServices _services;
    private readonly StreamConsumerOptions _options;
    private readonly RecoveryPolicy _recovery;
    private readonly bool _waitForStream;
    private readonly string _handlerName;
    private readonly string? _partition;
    private readonly string _source;
    private readonly ConsumerTelemetry _telemetry;
    private readonly ConsumerCounters _counters;
    private readonly OffsetCommitter _committer;
    private readonly ConsumerController _control;
    private IDeliverySource? _consumer;
    private volatile StreamConsumerState _state = StreamConsumerState.Starting;

    public ConsumerWorker(ConsumerRegistration registration, StreamConsumerOptions options, string? partition, RabbitStreamsConsumerOptions defaults, ConsumerWorkerServices services)
    {
        _registration = registration;
        _services = services;
        _options = options;
        _partition = partition;
        _source = partition ?? options.Stream;
        _recovery = services.Options.Value.Recovery.ToRecoveryPolicy(services.Time, defaults.RecoveryDelay);
        _waitForStream = options.WaitForStream ?? defaults.WaitForStream;
        _handlerName = registration.HandlerType.Name;
        var concurrent = options.MaxConcurrency > 1 && !registration.IsBatch;
        _counters = new ConsumerCounters(concurrent);
        _telemetry = services.Telemetry.AddConsumer(registration.HandlerType, options.Stream, partition, options.Name, GetStatus, concurrent);
        _committer = new OffsetCommitter(
            services.Backend,
            options.Name,
            _source,
            options.CommitEveryMessages ?? defaults.CommitEveryMessages,
            options.CommitInterval ?? defaults.CommitInterval,
            services.Options.Value.RequestTimeout,
            services.Time,
            services.Logger,
            _telemetry);
        _control = new ConsumerController(
            options.Name,
            _source,
            options.AutoStart ?? defaults.AutoStart,
            _committer,
            services.Backend,
            new RewindResolver(services.Backend, services.Options.Value.RequestTimeout, services.Time),
            services.Logger,
            () => _telemetry.SetState(EffectiveState));
        if (options.SingleActiveConsumer)
        {
            // The group shares the stored offset: a rewind on another instance is picked up at the next commit.
            _committer.WatchStoredOffset(_control.StoredOffsetChanged);
        }

        Pipeline = new ConsumerPipeline(
            registration,
            options,
            partition,
            (options.FailurePolicy ?? defaults.FailurePolicy).Clone(),
            defaults.MaxBatchSize,
            services,
            _telemetry,
            _committer,
            _counters,
            _control.Gate);
        services.Control.Add(_control);
    }

    /// <summary>The stages this consumer runs its deliveries through.</summary>
    internal ConsumerPipeline Pipeline { get; }

    /// <summary>Pause, resume and rewind of this consumer.</summary>
    internal ConsumerController Control => _control;

    /// <summary>The state as reported: Paused while paused or not started, unless faulted or stopped.</summary>
    private StreamConsumerState EffectiveState => _state is not StreamConsumerState.Faulted and not StreamConsumerState.Stopped && _control.PausedReason is not null
        ? StreamConsumerState.Paused
        : _state;

    public void Dispose()
    {
        _services.Control.Remove(_control);
        _control.Dispose();
        _committer.Dispose();
        _telemetry.Dispose();
    }

    public StreamConsumerStatus GetStatus()
    {
        long processed = _committer.LastProcessed;
        long stored = _committer.LastStored;
        return new StreamConsumerStatus(
            _registration.HandlerType,
            _options.Stream,
            _partition,
            _options.Name,
            EffectiveState,
            processed < 0 ? null : (ulong)processed,
            stored < 0 ? null : (ulong)stored,
            _counters.HandledCount,
            _counters.FailedCount,
            _counters.LastError,
            Volatile.Read(ref _consumer)?.IsActive ?? true)
        {
            FilteredCount = _telemetry.Filtered,
            StateReason = EffectiveState == StreamConsumerState.Paused ? _control.PausedReason : null,
        };
    }

    /// <summary>
    /// Subscribes once connected and the declared streams exist, and runs until the host stops. A lost connection is
    /// recovered by the client alone (same consumer, resuming after the last delivered offset: see
    /// <see cref="OnStatusChanged"/>); this loop subscribes again only when a subscription ended for good (its
    /// recovery failed or was off), at once the first time and then with the recovery back-off.
    /// </summary>
    public async Task RunAsync(CancellationToken stopping, CancellationToken abort)
    {
        // When the host starts stopping, store what is already processed right away (an in-flight handler may still
        // run until the shutdown timeout); the final store follows once it finished.
        using var onStopping = stopping.Register(static s => ((OffsetCommitter)s!).CommitInBackground(), _committer);
        var attempt = 0;
        var waits = 0;
        DateTimeOffset? subscribedAt = null;
        if (_control.IsNotStarted)
        {
            _telemetry.SetState(EffectiveState);
            Log.ConsumerNotStarted(_services.Logger, _options.Name ?? _handlerName, _source);
        }

        while (!stopping.IsCancellationRequested)
        {
            try
            {
                // Not started yet (AutoStart off), or a rewind is under way.
                await _control.WaitMaySubscribeAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            // Stopped with the host, or by a rewind (which then lets the loop subscribe again from its target).
            using var run = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            if (!_control.TryEnterRun(run))
            {
                continue;
            }

            IDeliverySource? consumer = null;
            TimeSpan delay;
            try
            {
                try
                {
                    await _services.Topology.WhenReadyAsync(run.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The connection or the declared streams failed for good: the health check says why.
                    _counters.LastError = ex;
                    SetState(StreamConsumerState.Faulted);
                    break;
                }

                var subscription = await BuildSubscriptionAsync(run.Token).ConfigureAwait(false);
                consumer = await _services.Backend.SubscribeAsync(subscription, run.Token).ConfigureAwait(false);
                Subscribed(consumer, subscription);
                subscribedAt = _services.Time.GetUtcNow();
                await Pipeline.RunAsync(consumer, run.Token, abort).ConfigureAwait(false);
                throw new StreamClientException($"The consumer of stream '{_source}' ended.");
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (OperationCanceledException) when (run.IsCancellationRequested)
            {
                // Stopped for a rewind: subscribe again (from the rewind's target) once it is done.
                delay = TimeSpan.Zero;
            }
            catch (ConsumerStoppedException ex)
            {
                _counters.LastError = ex.InnerException;
                SetState(StreamConsumerState.Faulted);
                break;
            }
            catch (StreamDeletedException ex)
            {
                // The stream was deleted under the subscription: it ends for good, and so does this consumer.
                Fault(ex);
                break;
            }
            catch (StreamDoesNotExistException ex) when (subscribedAt is not null || _committer.LastProcessed >= 0)
            {
                // The stream was deleted under a running consumer: its offsets mean nothing for a re-created stream.
                Fault(ex);
                break;
            }
            catch (StreamDoesNotExistException ex) when (!_waitForStream)
            {
                // Neither declared nor created: retrying cannot help until someone creates it.
                Fault(new StreamDoesNotExistException(_source, MissingStreamMessage(waiting: false) + $" ({ex.Message})"));
                break;
            }
            catch (StreamDoesNotExistException)
            {
                waits++;
                delay = _recovery.GetDelay(waits, Random.Shared.NextDouble());
                _counters.LastError = new StreamDoesNotExistException(_source, MissingStreamMessage(waiting: true));
                SetState(StreamConsumerState.WaitingForStream);
                Log.WaitingForStream(_services.Logger, _handlerName, _source, delay);
            }
            catch (RecoveryFailedException ex)
            {
                // The client's recovery ran out of RabbitStreams:Recovery:MaxAttempts.
                Fault(ex);
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
                _counters.LastError = ex;
                if (attempt > (_recovery.MaxAttempts ?? int.MaxValue))
                {
                    Fault(new RecoveryFailedException(_source, attempt - 1, ex));
                    break;
                }

                SetState(StreamConsumerState.Recovering);
                Log.ConsumerRecovering(_services.Logger, _handlerName, _source, delay, ex);
            }
            finally
            {
                await _committer.CommitAsync().ConfigureAwait(false);
                if (consumer is not null)
                {
                    Volatile.Write(ref _consumer, null);
                    consumer.StatusChanged -= OnStatusChanged;

                    // Ended for a rewind: the stored offset was just rewritten, leave it as it is.
                    await DisposeQuietlyAsync(consumer, storeOffset: !run.IsCancellationRequested || stopping.IsCancellationRequested).ConfigureAwait(false);
                }

                _control.ExitRun();
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
            long last = _committer.LastProcessed;
            Log.ConsumerStopped(_services.Logger, _handlerName, _source, last < 0 ? null : (ulong)last);
        }
    }

    private void Fault(Exception error)
    {
        _counters.LastError = error;
        SetState(StreamConsumerState.Faulted);
        Log.ConsumerFaulted(_services.Logger, _handlerName, _source, error);
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
        _telemetry.SetState(EffectiveState);
    }

    private void Subscribed(IDeliverySource consumer, ConsumerOptions options)
    {
        Volatile.Write(ref _consumer, consumer);
        _control.Subscribed();
        consumer.StatusChanged += OnStatusChanged;
        Log.ConsumerSubscribed(_services.Logger, _handlerName, _source, _options.Name, options.Offset.ToString());
        SetState(StreamConsumerState.Running);
    }

    /// <summary>
    /// The client recovers a lost subscription itself (same consumer, resuming after the last delivered offset):
    /// mirror its status so that health checks, metrics and the status API see the outage.
    /// </summary>
    private void OnStatusChanged(object? sender, StreamStatusChangedEventArgs e)
    {
        switch (e.Status)
        {
            case StreamStatus.Reconnecting when _state == StreamConsumerState.Running:
                _counters.LastError = e.Exception ?? _counters.LastError;
                SetState(StreamConsumerState.Recovering);
                Log.ConsumerClientRecovering(_services.Logger, _handlerName, _source, e.Exception);
                break;
            case StreamStatus.Recovered or StreamStatus.Connected when _state == StreamConsumerState.Recovering:
                Log.ConsumerClientRecovered(_services.Logger, _handlerName, _source);
                SetState(StreamConsumerState.Running);
                break;
        }
    }

    /// <summary>Where to start: after the last message handled by this process, else after the stored offset, else <see cref="StreamConsumerOptions.Offset"/>.</summary>
    private async Task<ConsumerOptions> BuildSubscriptionAsync(CancellationToken cancellationToken)
    {
        var options = new ConsumerOptions(_source)
        {
            Name = _options.Name,
            ResumeFromStoredOffset = false,
            Offset = _options.Offset,
            FilterValues = _options.FilterValues is { Count: > 0 } filters ? filters : null,
            MatchUnfiltered = _options.MatchUnfiltered,
            Recovery = _recovery,
        };

        long last = _committer.LastProcessed;
        var restart = _control.RestartOffset;
        if (_options.SingleActiveConsumer)
        {
            // The client resolves the start when the broker activates this consumer: stored offset + 1, else Offset.
            // After a rewind to offset 0 nothing precedes it to store: start there explicitly.
            options.ResumeFromStoredOffset = restart != 0;
            options.Offset = restart == 0 ? OffsetSpecification.Offset(0) : options.Offset;
            options.SingleActiveConsumer = true;
            if (_partition is not null)
            {
                // The broker spreads the partitions of one super stream over the group's members.
                options.Properties = new Dictionary<string, string>(StringComparer.Ordinal) { ["super-stream"] = _options.Stream };
            }
        }
        else if (restart is { } next)
        {
            // After a rewind: from its target (the offset before it is stored, unless the target is 0).
            options.Offset = OffsetSpecification.Offset(next);
        }
        else if (last >= 0)
        {
            // Re-subscribing after a failure: continue after the last message this process handled.
            options.Offset = OffsetSpecification.Offset((ulong)last + 1);
        }
        else if (_options.Name is { } name
            && await _services.Backend.QueryOffsetAsync(name, _source, cancellationToken).ConfigureAwait(false) is { } stored)
        {
            _committer.SetStored(stored);
            options.Offset = OffsetSpecification.Offset(stored + 1);
        }

        return options;
    }

    private static async Task DisposeQuietlyAsync(IDeliverySource consumer, bool storeOffset)
    {
        try
        {
            if (storeOffset)
            {
                await consumer.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                await consumer.DisposeWithoutStoringOffsetAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The subscription is gone either way.
        }
    }
}
