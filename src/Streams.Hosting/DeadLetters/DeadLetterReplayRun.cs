using Streams.Client;

namespace Streams.Hosting.DeadLetters;

/// <summary>
/// One replay: reads the dead letters of a range in offset order, sends each to its target through that target's
/// deduplicating producer (<see cref="StreamDeadLetterReplayer.ProducerName"/>), counts, waits for every confirm, and
/// with <see cref="DeadLetterReplayMode.Move"/> stores how far it got.
/// </summary>
internal sealed class DeadLetterReplayRun : IAsyncDisposable
{
    private readonly StreamSystem _system;
    private readonly string _deadLetterStream;
    private readonly DeadLetterReplayOptions _options;
    private readonly int _maxUnconfirmed;
    private readonly Dictionary<string, Target> _targets = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _sync = new();
    private readonly List<Exception> _failures = [];
    private int _pending;
    private int _completing;
    private long _replayed;
    private long _alreadyReplayed;
    private long _filtered;
    private long _examined;
    private ulong? _first;
    private ulong? _last;

    public DeadLetterReplayRun(StreamSystem system, string deadLetterStream, DeadLetterReplayOptions options, int maxUnconfirmed)
    {
        _system = system;
        _deadLetterStream = deadLetterStream;
        _options = options;
        _maxUnconfirmed = maxUnconfirmed;
    }

    /// <summary>The writer of <paramref name="stream"/>: checks that it exists and reads its deduplication sequence once.</summary>
    public async Task<Target> TargetAsync(string stream, CancellationToken cancellationToken)
    {
        if (_targets.TryGetValue(stream, out var target))
        {
            return target;
        }

        if (!await _system.StreamExistsAsync(stream, cancellationToken).ConfigureAwait(false))
        {
            throw new StreamDoesNotExistException(stream, $"The replay target {stream} (of the dead letters in {_deadLetterStream}) does not exist.");
        }

        var name = StreamDeadLetterReplayer.ProducerName(_deadLetterStream, stream);
        var sequence = await _system.QueryPublisherSequenceAsync(name, stream, cancellationToken).ConfigureAwait(false);
        target = new Target(stream, name, sequence);
        _targets.Add(stream, target);
        return target;
    }

    /// <summary>Reads offsets <paramref name="from"/>..<paramref name="to"/> (the last one is a message) or up to <see cref="DeadLetterReplayOptions.MaxMessages"/>.</summary>
    public async Task ReadAsync(ulong from, ulong to, CancellationToken cancellationToken)
    {
        var options = new ConsumerOptions(_deadLetterStream) { Offset = OffsetSpecification.Offset(from), ResumeFromStoredOffset = false };
        var consumer = await _system.CreateConsumerAsync(options, cancellationToken).ConfigureAwait(false);
        await using var disposeConsumer = consumer.ConfigureAwait(false);
        await foreach (var delivery in consumer.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            // A chunk is delivered whole: records before the start are in it.
            if (delivery.Offset < from)
            {
                continue;
            }

            if (delivery.Offset > to)
            {
                break;
            }

            await ReplayAsync(delivery, cancellationToken).ConfigureAwait(false);
            if (delivery.Offset == to || (_options.MaxMessages is { } max && _examined >= max))
            {
                break;
            }
        }
    }

    private async Task ReplayAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        var offset = delivery.Offset;
        _examined++;
        _first ??= offset;
        _last = offset;
        if (delivery.Format != EntryFormat.Amqp || !delivery.TryDecodeMessage(out var message))
        {
            throw new DeadLetterReplayException(_deadLetterStream, offset,
                $"The entry at offset {offset} of {_deadLetterStream} is not an AMQP 1.0 message, so not a dead letter; replay a range without it (FromOffset/ToOffset).");
        }

        var original = message.ApplicationProperties is { } properties && properties.TryGetValue(DeadLetterHeaders.OriginalStream, out var value) ? value as string : null;
        if (_options.OriginalStream is { } filter && !string.Equals(original, filter, StringComparison.Ordinal))
        {
            _filtered++;
            return;
        }

        var stream = _options.TargetStream ?? original ?? throw new DeadLetterReplayException(_deadLetterStream, offset,
            $"The dead letter at offset {offset} of {_deadLetterStream} has no {DeadLetterHeaders.OriginalStream} property: give the stream to replay it to (DeadLetterReplayOptions.TargetStream, --to).");
        var target = await TargetAsync(stream, cancellationToken).ConfigureAwait(false);
        var publishingId = offset + 1;
        if (publishingId <= target.Sequence)
        {
            _alreadyReplayed++;
            return;
        }

        if (_options.DryRun)
        {
            _replayed++;
            target.Sent++;
            return;
        }

        var replay = ToReplay(message, offset);
        var producer = target.Producer ??= await CreateProducerAsync(target, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _pending);
        try
        {
            await producer.Send(publishingId, replay, confirmation => OnConfirm(target, confirmation), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Interlocked.Decrement(ref _pending);
            throw;
        }
    }

    /// <summary>The dead letter as it is sent back: without the failure's properties, with the replay's.</summary>
    private Message ToReplay(Message message, ulong offset)
    {
        var properties = message.ApplicationProperties is { } existing
            ? new Dictionary<string, object?>(existing, StringComparer.Ordinal)
            : new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var header in DeadLetterHeaders.FailureHeaders)
        {
            properties.Remove(header);
        }

        var count = properties.TryGetValue(DeadLetterHeaders.ReplayCount, out var previous) ? ReplayCountOf(previous, offset) : 0;
        properties[DeadLetterHeaders.ReplayCount] = count + 1;
        properties[DeadLetterHeaders.ReplayedFromStream] = _deadLetterStream;
        properties[DeadLetterHeaders.ReplayedFromOffset] = (long)offset;
        message.ApplicationProperties = properties;
        // Delivery annotations are for one hop only (AMQP 1.0 3.2.2).
        message.DeliveryAnnotations = null;
        return message;
    }

    private int ReplayCountOf(object? value, ulong offset) => value switch
    {
        int i and >= 0 => i,
        long l and >= 0 and < int.MaxValue => (int)l,
        uint u and < int.MaxValue => (int)u,
        short s and >= 0 => s,
        ushort s => s,
        byte b => b,
        sbyte b and >= 0 => b,
        _ => throw new DeadLetterReplayException(_deadLetterStream, offset,
            $"The dead letter at offset {offset} of {_deadLetterStream} has {DeadLetterHeaders.ReplayCount} = '{value}', not a replay count (a whole number from 0)."),
    };

    private async Task<Producer> CreateProducerAsync(Target target, CancellationToken cancellationToken)
    {
        var options = new ProducerOptions(target.Stream)
        {
            Name = target.ProducerName,
            MaxUnconfirmed = _maxUnconfirmed,
            // The filter value a message was published with is its x-stream-filter-value property, kept by the replay.
            FilterValue = StreamFilter.ProducerFilterValue,
        };
        try
        {
            return await _system.CreateProducerAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (NotSupportedException)
        {
            // A broker without Publish v2 (before 3.13): no filter values.
            options.FilterValue = null;
            return await _system.CreateProducerAsync(options, cancellationToken).ConfigureAwait(false);
        }
    }

    private void OnConfirm(Target target, Confirmation confirmation)
    {
        if (confirmation.IsConfirmed)
        {
            Interlocked.Increment(ref _replayed);
            Interlocked.Increment(ref target.Sent);
        }
        else
        {
            lock (_sync)
            {
                _failures.Add(confirmation.ToException()!);
            }
        }

        if (Interlocked.Decrement(ref _pending) == 0 && Volatile.Read(ref _completing) == 1)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>Waits for the outcome of every dead letter sent (no more are sent after it).</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _completing, 1);
        if (Volatile.Read(ref _pending) > 0)
        {
            await _drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for every confirm, throws the first failure, stores a move's progress, and returns the counts.</summary>
    public async Task<DeadLetterReplayResult> CompleteAsync(CancellationToken cancellationToken)
    {
        await DrainAsync(cancellationToken).ConfigureAwait(false);
        lock (_sync)
        {
            if (_failures.Count > 0)
            {
                // The client's typed exception of the first failed confirm (a broker refusal or timeout is, as a rule, the cause of all).
                throw _failures[0];
            }
        }

        if (_options.Mode == DeadLetterReplayMode.Move && !_options.DryRun && _last is { } last)
        {
            await StoreMovedAsync(last, cancellationToken).ConfigureAwait(false);
        }

        var targets = _targets.Values.Where(t => t.Sent > 0).ToDictionary(t => t.Stream, t => t.Sent, StringComparer.Ordinal);
        return new DeadLetterReplayResult(_deadLetterStream, _replayed, _alreadyReplayed, _filtered, _first, _last, targets, _options.DryRun);
    }

    /// <summary>Stores <paramref name="last"/> as moved unless a later offset is stored already, and reads it back.</summary>
    private async Task StoreMovedAsync(ulong last, CancellationToken cancellationToken)
    {
        var name = _options.GetTrackingName();
        var stored = await _system.QueryOffsetAsync(name, _deadLetterStream, cancellationToken).ConfigureAwait(false);
        if (stored >= last)
        {
            return;
        }

        // The next run must see it: a store is not answered on the wire.
        await _system.StoreOffsetAndWaitAsync(name, _deadLetterStream, last, null, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var target in _targets.Values)
        {
            if (target.Producer is { } producer)
            {
                await producer.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>A stream replayed to: its deduplicating producer (opened at the first send) and what it already holds.</summary>
    internal sealed class Target(string stream, string producerName, ulong sequence)
    {
        public string Stream { get; } = stream;

        public string ProducerName { get; } = producerName;

        /// <summary>The last publishing id the broker holds for <see cref="ProducerName"/> on <see cref="Stream"/> when the run started.</summary>
        public ulong Sequence { get; } = sequence;

        public Producer? Producer { get; set; }

        public long Sent;
    }
}
