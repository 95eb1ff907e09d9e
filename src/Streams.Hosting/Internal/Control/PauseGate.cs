namespace Streams.Hosting.Internal.Control;

/// <summary>
/// Where a consumer's pipeline stops while it is paused: every handler invocation (a message, a batch) enters the gate
/// first and leaves it once its offset is marked processed. While paused, entering waits for the resume (the message
/// in hand stays buffered, so none is lost); <see cref="WaitQuiescentAsync"/> completes once no invocation is in flight.
/// </summary>
/// <remarks>
/// The hot path is one interlocked increment and one volatile read per invocation: the pause flag is read after the
/// in-flight count is raised, and the pauser reads the count after raising the flag, so either the invocation sees the
/// pause or the pauser sees the invocation.
/// </remarks>
internal sealed class PauseGate
{
    private readonly object _lock = new();
    private int _inFlight;
    private volatile PauseState? _pause;

    /// <summary>Paused: no invocation enters.</summary>
    public bool IsPaused => _pause is not null;

    /// <summary>Enters the gate before an invocation; waits while paused (cancelled by <paramref name="stopping"/>).</summary>
    public ValueTask EnterAsync(CancellationToken stopping)
    {
        Interlocked.Increment(ref _inFlight);
        return _pause is null ? ValueTask.CompletedTask : WaitResumedAsync(stopping);
    }

    /// <summary>Leaves the gate after an invocation (its offset marked processed).</summary>
    public void Exit()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && _pause is { } pause)
        {
            pause.Quiescent.TrySetResult();
        }
    }

    /// <summary>Pauses (does nothing when paused); returns false when it was paused already.</summary>
    public bool Pause()
    {
        lock (_lock)
        {
            if (_pause is not null)
            {
                return false;
            }

            var pause = new PauseState();
            _pause = pause;
            if (Volatile.Read(ref _inFlight) == 0)
            {
                pause.Quiescent.TrySetResult();
            }

            return true;
        }
    }

    /// <summary>Resumes (does nothing when not paused); returns false when it was not paused.</summary>
    public bool Resume()
    {
        lock (_lock)
        {
            if (_pause is not { } pause)
            {
                return false;
            }

            _pause = null;
            pause.Resumed.TrySetResult();
            return true;
        }
    }

    /// <summary>Completes once paused and no invocation is in flight (at once when not paused).</summary>
    public Task WaitQuiescentAsync(CancellationToken cancellationToken) =>
        _pause is { } pause ? pause.Quiescent.Task.WaitAsync(cancellationToken) : Task.CompletedTask;

    private async ValueTask WaitResumedAsync(CancellationToken stopping)
    {
        while (_pause is { } pause)
        {
            Exit();

            // Cancelled: the invocation does not happen, it has left the gate.
            await pause.Resumed.Task.WaitAsync(stopping).ConfigureAwait(false);
            Interlocked.Increment(ref _inFlight);
        }
    }

    /// <summary>A subscription ended: nothing of it is in flight any more (an invocation that threw did not leave).</summary>
    public void Reset()
    {
        Interlocked.Exchange(ref _inFlight, 0);
        if (_pause is { } pause)
        {
            pause.Quiescent.TrySetResult();
        }
    }

    private sealed class PauseState
    {
        public TaskCompletionSource Quiescent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Resumed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
