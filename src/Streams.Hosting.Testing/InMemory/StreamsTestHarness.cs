using Microsoft.Extensions.DependencyInjection;
using Streams.Client;
using Streams.Hosting.Internal.Pipeline;

namespace Streams.Hosting.Testing.InMemory;

/// <summary>
/// Records what the pipeline reports (<see cref="IConsumeObserver"/>) and completes the waiters whose condition a new
/// record satisfies, under one lock (a waiter never misses a record that arrives while it registers).
/// </summary>
internal sealed class StreamsTestHarness : IStreamsTestHarness, IConsumeObserver
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly object _sync = new();
    private readonly List<PublishedRecord> _published = [];
    private readonly List<ConsumedRecord> _consumed = [];
    private readonly List<FaultedRecord> _faulted = [];
    private readonly List<DeadLetter> _deadLetters = [];
    private readonly List<Waiter> _waiters = [];
    private readonly InMemoryBroker _broker;
    private readonly IServiceProvider _services;

    public StreamsTestHarness(InMemoryBroker broker, IServiceProvider services)
    {
        _broker = broker;
        _services = services;

        // An offset was stored: waiters on stored offsets look again.
        _broker.OffsetStored += () => Add<object>(string.Empty, null);
    }

    public Task PublishAsync<T>(string stream, T message, PublishOptions? options = null, CancellationToken cancellationToken = default) =>
        _services.GetRequiredService<IStreamPublisher>().PublishAsync(stream, message, options, cancellationToken);

    public IReadOnlyList<PublishedMessage<T>> Published<T>()
    {
        lock (_sync)
        {
            return [.. _published.Where(p => p.Message is T).Select(p => new PublishedMessage<T>(p.Stream, (T)p.Message, p.Options))];
        }
    }

    public IReadOnlyList<ConsumedMessage<T>> Consumed<T>()
    {
        lock (_sync)
        {
            return [.. _consumed.Select(AsConsumed<T>).OfType<ConsumedMessage<T>>()];
        }
    }

    public IReadOnlyList<FaultedMessage<T>> Faulted<T>()
    {
        lock (_sync)
        {
            return [.. _faulted.Select(AsFaulted<T>).OfType<FaultedMessage<T>>()];
        }
    }

    public IReadOnlyList<DeadLetter> DeadLettered(string stream)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stream);
        lock (_sync)
        {
            return [.. _deadLetters.Where(d => d.SourceStream == stream)];
        }
    }

    public ulong? StoredOffset(string stream, string consumerName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stream);
        ArgumentException.ThrowIfNullOrWhiteSpace(consumerName);
        return _broker.StreamExists(stream) ? _broker.QueryOffset(consumerName, stream) : null;
    }

    public void AddPartition(string superStream, string partition, string bindingKey) => _broker.AddPartition(superStream, partition, bindingKey);

    public void RemovePartition(string superStream, string partition) => _broker.RemovePartition(superStream, partition);

    public IReadOnlyList<StoredMessage> Read(string stream)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stream);
        return [.. _broker.GetStream(stream).Snapshot().Select(e => new StoredMessage(e.Offset, e.Timestamp, e.FilterValue, Message.DecodeEntry(e.Bytes)))];
    }

    public Task<ConsumedMessage<T>> WaitForConsumedAsync<T>(Func<T, bool>? predicate = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        WaitAsync<ConsumedMessage<T>>(
            record => record is ConsumedRecord c && AsConsumed<T>(c) is { } consumed && (predicate is null || predicate(consumed.Message)) ? consumed : null,
            $"a consumed {typeof(T).Name}",
            timeout,
            cancellationToken);

    public Task<FaultedMessage<T>> WaitForFaultedAsync<T>(Func<FaultedMessage<T>, bool>? predicate = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        WaitAsync<FaultedMessage<T>>(
            record => record is FaultedRecord f && AsFaulted<T>(f) is { } faulted && (predicate is null || predicate(faulted)) ? faulted : null,
            $"a faulted {typeof(T).Name}",
            timeout,
            cancellationToken);

    public Task<DeadLetter> WaitForDeadLetteredAsync(string stream, Func<DeadLetter, bool>? predicate = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stream);
        return WaitAsync<DeadLetter>(
            record => record is DeadLetter d && d.SourceStream == stream && (predicate is null || predicate(d)) ? d : null,
            $"a dead letter from '{stream}'",
            timeout,
            cancellationToken);
    }

    public Task WaitForStoredOffsetAsync(string stream, string consumerName, ulong offset, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stream);
        ArgumentException.ThrowIfNullOrWhiteSpace(consumerName);
        return WaitAsync<object>(
            _ => StoredOffset(stream, consumerName) >= offset ? stream : null,
            $"offset {offset} stored for '{consumerName}' on '{stream}'",
            timeout,
            cancellationToken);
    }

    void IConsumeObserver.Published(string stream, object message, Type messageType, PublishOptions? options) => Add(new PublishedRecord(stream, message, options), _published);

    void IConsumeObserver.Consumed(Type handlerType, object? message, StreamContext context) => Add(new ConsumedRecord(handlerType, message, context), _consumed);

    void IConsumeObserver.Faulted(Type handlerType, Type messageType, string source, ulong offset, object? message, Exception error, int attempts) =>
        Add(new FaultedRecord(handlerType, messageType, source, offset, message, error, attempts), _faulted);

    void IConsumeObserver.DeadLettered(string source, string deadLetterStream, Message message) => Add(new DeadLetter(source, deadLetterStream, message), _deadLetters);

    private static ConsumedMessage<T>? AsConsumed<T>(ConsumedRecord c) => c.Message is T message ? new ConsumedMessage<T>(message, c.Context, c.HandlerType) : null;

    private static FaultedMessage<T>? AsFaulted<T>(FaultedRecord f) =>
        f.Message is T message ? new FaultedMessage<T>(message, f.Stream, f.Offset, f.Error, f.Attempts, f.HandlerType)
        : typeof(T) == f.MessageType ? new FaultedMessage<T>(default, f.Stream, f.Offset, f.Error, f.Attempts, f.HandlerType)
        : null;

    private void Add<T>(T record, List<T>? list)
        where T : class
    {
        List<(Waiter Waiter, object Result)> done = [];
        lock (_sync)
        {
            list?.Add(record);
            foreach (var waiter in _waiters)
            {
                if (waiter.Match(record) is { } result)
                {
                    done.Add((waiter, result));
                }
            }

            foreach (var (waiter, _) in done)
            {
                _waiters.Remove(waiter);
            }
        }

        foreach (var (waiter, result) in done)
        {
            waiter.Completion.TrySetResult(result);
        }
    }

    private async Task<T> WaitAsync<T>(Func<object, T?> match, string what, TimeSpan? timeout, CancellationToken cancellationToken)
        where T : class
    {
        var limit = timeout ?? DefaultTimeout;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(limit, TimeSpan.Zero, nameof(timeout));
        var waiter = new Waiter(o => match(o));
        lock (_sync)
        {
            // Already there?
            foreach (var record in _consumed.Concat<object>(_faulted).Concat(_deadLetters).Append(string.Empty))
            {
                if (match(record) is { } found)
                {
                    return found;
                }
            }

            _waiters.Add(waiter);
        }

        try
        {
            return (T)await waiter.Completion.Task.WaitAsync(limit, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            lock (_sync)
            {
                _waiters.Remove(waiter);
                throw new TimeoutException(
                    $"Streams test harness: no {what} within {limit}. Seen so far: {_published.Count} published, {_consumed.Count} consumed " +
                    $"({string.Join(", ", _consumed.GroupBy(c => c.Message?.GetType().Name ?? "null").Select(g => $"{g.Count()} {g.Key}"))}), " +
                    $"{_faulted.Count} faulted{(_faulted.Count > 0 ? $" (last: {_faulted[^1].Error.Message})" : string.Empty)}, {_deadLetters.Count} dead-lettered.");
            }
        }
        catch (OperationCanceledException)
        {
            lock (_sync)
            {
                _waiters.Remove(waiter);
            }

            throw;
        }
    }

    private sealed record PublishedRecord(string Stream, object Message, PublishOptions? Options);

    private sealed record ConsumedRecord(Type HandlerType, object? Message, StreamContext Context);

    private sealed record FaultedRecord(Type HandlerType, Type MessageType, string Stream, ulong Offset, object? Message, Exception Error, int Attempts);

    private sealed class Waiter(Func<object, object?> match)
    {
        public TaskCompletionSource<object> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public object? Match(object record) => match(record);
    }
}
