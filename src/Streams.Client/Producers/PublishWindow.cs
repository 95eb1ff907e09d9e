using System.Threading.Tasks.Sources;

namespace Streams.Client.Producers;

/// <summary>
/// Counts the room left for unconfirmed messages. Taking is lock-free when there is room; senders that find none
/// wait (FIFO) on pooled, allocation-free waiters. Waiters are woken only once <c>wakeThreshold</c> slots are free
/// (or every slot is), so a sender resumes with room for a batch instead of ping-ponging one slot at a time.
/// </summary>
internal sealed class PublishWindow
{
    private readonly Lock _lock = new();
    private readonly Queue<Waiter> _waiters = new();
    private readonly Stack<Waiter> _pool = new();
    private readonly int _capacity;
    private readonly int _wakeThreshold;
    private int _available;
    private int _waiting;
    private bool _opened;

    public PublishWindow(int capacity, int wakeThreshold)
    {
        _capacity = capacity;
        _available = capacity;
        _wakeThreshold = Math.Clamp(wakeThreshold, 1, capacity);
    }

    /// <summary>Free slots (diagnostics).</summary>
    public int Available => Volatile.Read(ref _available);

    /// <summary>Takes a slot if one is free and nobody is queued.</summary>
    public bool TryTake()
    {
        if (Volatile.Read(ref _waiting) != 0)
        {
            return false;
        }

        int current = Volatile.Read(ref _available);
        while (current > 0)
        {
            int seen = Interlocked.CompareExchange(ref _available, current - 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return Volatile.Read(ref _opened);
    }

    /// <summary>Takes a slot, waiting asynchronously (in FIFO order) when none is free.</summary>
    public ValueTask TakeAsync(CancellationToken cancellationToken)
    {
        if (TryTake())
        {
            return default;
        }

        cancellationToken.ThrowIfCancellationRequested();
        Waiter waiter;
        lock (_lock)
        {
            if (_opened)
            {
                return default;
            }

            while (_waiters.Count > 0 && _waiters.Peek().IsCancelled)
            {
                _waiters.Dequeue();
                Interlocked.Decrement(ref _waiting);
            }

            // Re-check under the lock: a release may have happened since.
            if (_waiters.Count == 0 && TryTakeFree())
            {
                return default;
            }

            waiter = _pool.Count > 0 ? _pool.Pop() : new Waiter(this);
            waiter.Arm(cancellationToken);
            _waiters.Enqueue(waiter);
            Interlocked.Increment(ref _waiting);
        }

        waiter.RegisterCancellation(cancellationToken);
        return new ValueTask(waiter, waiter.Version);
    }

    /// <summary>Frees <paramref name="count"/> slots and wakes waiters when enough are free.</summary>
    public void Release(int count)
    {
        if (count <= 0)
        {
            return;
        }

        int available = Interlocked.Add(ref _available, count);
        if (Volatile.Read(ref _waiting) == 0)
        {
            return;
        }

        if (available < _wakeThreshold && available < _capacity)
        {
            return;
        }

        WakeWaiters();
    }

    /// <summary>Lets every current and future taker through (the producer closed; they will find out).</summary>
    public void Open()
    {
        List<Waiter> woken;
        lock (_lock)
        {
            Volatile.Write(ref _opened, true);
            woken = [.. _waiters];
            _waiters.Clear();
            Volatile.Write(ref _waiting, 0);
        }

        foreach (var waiter in woken)
        {
            waiter.TryGrant();
        }
    }

    private bool TryTakeFree()
    {
        int current = Volatile.Read(ref _available);
        while (current > 0)
        {
            int seen = Interlocked.CompareExchange(ref _available, current - 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    private void WakeWaiters()
    {
        // Granting completes waiters; do that outside the lock, in order.
        Waiter? single = null;
        List<Waiter>? many = null;
        lock (_lock)
        {
            while (_waiters.Count > 0)
            {
                var head = _waiters.Peek();
                if (head.IsCancelled)
                {
                    _waiters.Dequeue();
                    Interlocked.Decrement(ref _waiting);
                    continue;
                }

                if (!TryTakeFree())
                {
                    break;
                }

                _waiters.Dequeue();
                Interlocked.Decrement(ref _waiting);
                if (!head.MarkGranted())
                {
                    // Cancelled meanwhile: give the slot back.
                    Interlocked.Increment(ref _available);
                    continue;
                }

                if (single is null)
                {
                    single = head;
                }
                else
                {
                    (many ??= []).Add(head);
                }
            }
        }

        single?.Complete();
        if (many is not null)
        {
            foreach (var waiter in many)
            {
                waiter.Complete();
            }
        }
    }

    private void Return(Waiter waiter)
    {
        lock (_lock)
        {
            if (_pool.Count < 64)
            {
                _pool.Push(waiter);
            }
        }
    }

    private sealed class Waiter(PublishWindow owner) : IValueTaskSource
    {
        private const int Waiting = 0;
        private const int Granted = 1;
        private const int Cancelled = 2;

        private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
        private CancellationTokenRegistration _registration;
        private CancellationToken _token;
        private int _state;

        public short Version => _core.Version;

        public bool IsCancelled => Volatile.Read(ref _state) == Cancelled;

        public void Arm(CancellationToken token)
        {
            _core.Reset();
            _token = token;
            _state = Waiting;
        }

        public void RegisterCancellation(CancellationToken token)
        {
            if (token.CanBeCanceled)
            {
                _registration = token.UnsafeRegister(static s => ((Waiter)s!).OnCancelled(), this);
            }
        }

        public bool MarkGranted() => Interlocked.CompareExchange(ref _state, Granted, Waiting) == Waiting;

        public void Complete() => _core.SetResult(true);

        public void TryGrant()
        {
            if (MarkGranted())
            {
                Complete();
            }
        }

        public void GetResult(short token)
        {
            try
            {
                _core.GetResult(token);
            }
            finally
            {
                _registration.Dispose();
                _registration = default;
                _token = default;

                // A cancelled waiter may still sit in the queue: only granted ones are reused.
                if (Volatile.Read(ref _state) == Granted)
                {
                    owner.Return(this);
                }
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        private void OnCancelled()
        {
            if (Interlocked.CompareExchange(ref _state, Cancelled, Waiting) == Waiting)
            {
                // Stays in the queue, skipped (and dropped) by the next wake-up.
                _core.SetException(new OperationCanceledException(_token));
            }
        }
    }
}
