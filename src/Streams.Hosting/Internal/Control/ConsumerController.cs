using Microsoft.Extensions.Logging;
using Streams.Hosting.Internal.Backend;
using Streams.Hosting.Internal.Pipeline;

namespace Streams.Hosting.Internal.Control;

/// <summary>
/// Pause, resume and rewind of one hosted consumer subscription (one partition of a super stream), and what its
/// <see cref="ConsumerWorker"/> loop asks before it subscribes: whether it may (not while a rewind is under way, nor
/// before a consumer with AutoStart off is started) and where to start after a rewind.
/// </summary>
/// <remarks>
/// Pausing closes the <see cref="PauseGate"/> of the pipeline and keeps the subscription (see
/// <see cref="IStreamConsumerControl"/> for why). A rewind holds the loop outside a subscription (cancelling the
/// current one like a graceful stop: in-flight handlers finish and their offset is stored), writes the new stored
/// offset, and lets the loop subscribe again from the target.
/// </remarks>
internal sealed class ConsumerController : IDisposable
{
    private readonly object _lock = new();
    private readonly SemaphoreSlim _operations = new(1, 1);
    private readonly OffsetCommitter _committer;
    private readonly IStreamsBackend _backend;
    private readonly RewindResolver _resolver;
    private readonly ILogger _logger;
    private readonly Action _stateChanged;
    private int _holds;
    private TaskCompletionSource _released = Completed();
    private TaskCompletionSource _parked = Completed();
    private CancellationTokenSource? _run;
    private bool _notStarted;
    private long _restartAt = -1;

    public ConsumerController(
        string? name,
        string source,
        bool autoStart,
        OffsetCommitter committer,
        IStreamsBackend backend,
        RewindResolver resolver,
        ILogger logger,
        Action stateChanged)
    {
        Name = name;
        Source = source;
        _committer = committer;
        _backend = backend;
        _resolver = resolver;
        _logger = logger;
        _stateChanged = stateChanged;
        if (!autoStart)
        {
            _notStarted = true;
            _holds = 1;
            _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>The consumer name (null: anonymous, not steerable).</summary>
    public string? Name { get; }

    /// <summary>The stream or partition read.</summary>
    public string Source { get; }

    /// <summary>Where the pipeline waits while paused.</summary>
    public PauseGate Gate { get; } = new();

    /// <summary>Why the consumer is paused (<c>"not started"</c>, <c>"paused"</c>), null when it is not.</summary>
    public string? PausedReason
    {
        get
        {
            lock (_lock)
            {
                return _notStarted ? "not started" : Gate.IsPaused ? "paused" : null;
            }
        }
    }

    /// <summary>Not started yet (AutoStart off).</summary>
    public bool IsNotStarted
    {
        get
        {
            lock (_lock)
            {
                return _notStarted;
            }
        }
    }

    /// <summary>Pauses; completes once in-flight handlers finished and the processed offset is stored. Idempotent.</summary>
    public async Task PauseAsync(CancellationToken cancellationToken)
    {
        if (IsNotStarted)
        {
            return;
        }

        var paused = Gate.Pause();
        if (paused)
        {
            _stateChanged();
        }

        await Gate.WaitQuiescentAsync(cancellationToken).ConfigureAwait(false);
        await _committer.CommitAsync().ConfigureAwait(false);
        if (paused)
        {
            Log.ConsumerPaused(_logger, Name ?? Source, Source, Last());
        }
    }

    /// <summary>Resumes (or starts a consumer not started yet). Idempotent.</summary>
    public void Resume()
    {
        bool started;
        lock (_lock)
        {
            started = _notStarted;
            if (started)
            {
                _notStarted = false;
                ReleaseLocked();
            }
        }

        if (Gate.Resume() | started)
        {
            _stateChanged();
            Log.ConsumerResumed(_logger, Name ?? Source, Source, Last());
        }
    }

    /// <summary>
    /// Rewinds: lets in-flight handlers finish and stores their offset, writes the offset before the target on the
    /// broker, then ends the subscription and lets the loop subscribe from the target. The pause state is kept.
    /// </summary>
    /// <remarks>
    /// The new offset is stored before the subscription is released: with single-active-consumer the member activated
    /// by the release reads it (storing after would race with its activation).
    /// </remarks>
    public async Task RewindAsync(StreamRewindTarget target, CancellationToken cancellationToken)
    {
        var name = Name ?? throw new InvalidOperationException("An anonymous consumer cannot be rewound.");
        await _operations.WaitAsync(cancellationToken).ConfigureAwait(false);
        var pausedHere = false;
        var held = false;
        try
        {
            pausedHere = Gate.Pause();
            await Gate.WaitQuiescentAsync(cancellationToken).ConfigureAwait(false);
            await _committer.CommitAsync().ConfigureAwait(false);
            _committer.Suspend();
            var next = await _resolver.ResolveAsync(Source, target, cancellationToken).ConfigureAwait(false);
            var previous = await _backend.QueryOffsetAsync(name, Source, cancellationToken).ConfigureAwait(false);
            ulong? stored = next > 0 ? next - 1 : null;
            if (stored is { } value)
            {
                // The stored offset names the last processed message: the next one handled is the target.
                await _backend.StoreOffsetAsync(name, Source, value, cancellationToken).ConfigureAwait(false);
            }

            held = true;
            await HoldAsync().ConfigureAwait(false);
            await _committer.ResetAsync(next > 0 ? (long)next - 1 : -1).ConfigureAwait(false);
            Volatile.Write(ref _restartAt, (long)next);
            Log.ConsumerRewound(_logger, name, Source, target.ToString(), next, stored, previous);
        }
        finally
        {
            // A failed rewind leaves the consumer where it was (it goes on after its last processed message).
            _committer.Unsuspend();
            if (pausedHere)
            {
                Gate.Resume();
            }

            if (held)
            {
                Release();
            }

            _operations.Release();
        }
    }

    /// <summary>
    /// The stored offset was set elsewhere (single active consumer: a rewind on another instance): subscribe again
    /// after it. Runs in the background (called from a commit, which the subscription's end waits for).
    /// </summary>
    public void StoredOffsetChanged(ulong stored) => _ = Task.Run(async () =>
    {
        await _operations.WaitAsync().ConfigureAwait(false);
        try
        {
            await HoldAsync().ConfigureAwait(false);
            try
            {
                await _committer.ResetAsync((long)stored).ConfigureAwait(false);
                Volatile.Write(ref _restartAt, (long)stored + 1);
            }
            finally
            {
                Release();
            }
        }
        finally
        {
            _operations.Release();
        }
    });

    /// <summary>The loop: waits until it may subscribe (started, no rewind under way).</summary>
    public async Task WaitMaySubscribeAsync(CancellationToken stopping)
    {
        while (true)
        {
            Task released;
            lock (_lock)
            {
                if (_holds == 0)
                {
                    return;
                }

                released = _released.Task;
            }

            await released.WaitAsync(stopping).ConfigureAwait(false);
        }
    }

    /// <summary>The loop enters a subscription, stopped by <paramref name="run"/>; false when a hold came first (wait again).</summary>
    public bool TryEnterRun(CancellationTokenSource run)
    {
        lock (_lock)
        {
            if (_holds > 0)
            {
                return false;
            }

            _run = run;
            _parked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return true;
        }
    }

    /// <summary>The loop left the subscription (offsets stored, subscription disposed).</summary>
    public void ExitRun()
    {
        Gate.Reset();
        lock (_lock)
        {
            _run = null;
            _parked.TrySetResult();
        }
    }

    /// <summary>The offset to start from after a rewind (null: none), until <see cref="Subscribed"/>.</summary>
    public ulong? RestartOffset
    {
        get
        {
            long next = Volatile.Read(ref _restartAt);
            return next < 0 ? null : (ulong)next;
        }
    }

    /// <summary>The loop subscribed: the restart offset of a rewind is used.</summary>
    public void Subscribed() => Volatile.Write(ref _restartAt, -1);

    public void Dispose() => _operations.Dispose();

    /// <summary>Keeps the loop out of a subscription: stops the current one and waits until it ended.</summary>
    private async Task HoldAsync()
    {
        Task parked;
        CancellationTokenSource? run;
        lock (_lock)
        {
            if (_holds++ == 0)
            {
                _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            run = _run;
            parked = _parked.Task;
        }

        try
        {
            run?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The subscription ended meanwhile.
        }

        await parked.ConfigureAwait(false);
    }

    private void Release()
    {
        lock (_lock)
        {
            ReleaseLocked();
        }
    }

    private void ReleaseLocked()
    {
        if (--_holds == 0)
        {
            _released.TrySetResult();
        }
    }

    private ulong? Last()
    {
        long last = _committer.LastProcessed;
        return last < 0 ? null : (ulong)last;
    }

    private static TaskCompletionSource Completed()
    {
        var completed = new TaskCompletionSource();
        completed.SetResult();
        return completed;
    }
}
