using System.Diagnostics;
using System.Runtime.CompilerServices;
using Streams.Hosting.Internal;

namespace Streams.Hosting.Telemetry;

/// <summary>The telemetry of one hosted consumer (one per partition for a super stream): spans, metrics, state and lag.</summary>
internal sealed class ConsumerTelemetry : IDisposable
{
    private readonly StreamsInstrumentation _owner;
    private readonly Func<StreamConsumerStatus> _status;
    private readonly KeyValuePair<string, object?>[] _tags;
    private readonly object _gate = new();
    private readonly string _processSpanName;
    private readonly bool _concurrent;
    private readonly KeyValuePair<string, object?>[] _processSpanTags;
    private StreamConsumerState _state = StreamConsumerState.Starting;
    private DateTimeOffset _stateSince;
    private long _recoveries;
    private long _firstSeen = -1;
    private long _consumed;
    private long _filtered;
    private long _lag = -1;
    private DateTimeOffset? _lagMeasuredAt;

    public ConsumerTelemetry(StreamsInstrumentation owner, StreamsInstrumentation.ConsumerKey key, Func<StreamConsumerStatus> status, bool concurrent = false)
    {
        _owner = owner;
        _concurrent = concurrent;
        _status = status;
        Key = key;
        _stateSince = owner.Time.GetUtcNow();
        _processSpanName = SemanticConventions.OperationProcess + " " + key.Stream;
        _processSpanTags = StreamsActivitySource.ProcessSpanTags(key.Stream, key.Partition, key.Name);
        var tags = new List<KeyValuePair<string, object?>>
        {
            new(SemanticConventions.MessagingSystem, SemanticConventions.MessagingSystemRabbitMq),
            new(SemanticConventions.OperationName, SemanticConventions.OperationProcess),
            new(SemanticConventions.DestinationName, key.Stream),
        };
        if (key.Partition is not null)
        {
            tags.Add(new(SemanticConventions.DestinationPartitionId, key.Partition));
        }

        if (key.Name is not null)
        {
            tags.Add(new(SemanticConventions.ConsumerGroupName, key.Name));
        }

        _tags = [.. tags];
    }

    public StreamsInstrumentation.ConsumerKey Key { get; }

    /// <summary>The stream or partition read.</summary>
    public string Source => Key.Partition ?? Key.Stream;

    public ReadOnlySpan<KeyValuePair<string, object?>> MetricTags => _tags;

    public long? Lag
    {
        get
        {
            long lag = Interlocked.Read(ref _lag);
            return lag < 0 ? null : lag;
        }
    }

    /// <summary>Messages handed to the handler (first attempts).</summary>
    public long Consumed => Interlocked.Read(ref _consumed);

    /// <summary>Messages read and dropped by the consumer's filter (<see cref="StreamConsumerOptions.FilterValues"/>) without calling the handler.</summary>
    public long Filtered => Interlocked.Read(ref _filtered);

    public StreamConsumerStatus GetStatus() => _status();

    /// <summary>The offset of the first message handed to the handler (null before one): the lag base before anything is processed.</summary>
    public ulong? FirstSeenOffset
    {
        get
        {
            long value = Interlocked.Read(ref _firstSeen);
            return value < 0 ? null : (ulong)value;
        }
    }

    public void SetState(StreamConsumerState state)
    {
        lock (_gate)
        {
            if (state == _state)
            {
                return;
            }

            if (state == StreamConsumerState.Recovering)
            {
                _recoveries++;
                _owner.Metrics.Reconnects.Add(1, [new(SemanticConventions.ConnectionRole, "consumer"), .. _tags.AsSpan(2)]);
            }

            _state = state;
            _stateSince = _owner.Time.GetUtcNow();
        }
    }

    public void SetLag(long lag)
    {
        lock (_gate)
        {
            Interlocked.Exchange(ref _lag, Math.Max(0, lag));
            _lagMeasuredAt = _owner.Time.GetUtcNow();
        }
    }

    public StreamConsumerDiagnostics GetDiagnostics()
    {
        lock (_gate)
        {
            return new StreamConsumerDiagnostics(_stateSince, Lag, _lagMeasuredAt, _recoveries);
        }
    }

    /// <summary>Invokes a handler for one message: a <c>process</c> span and the process metrics when observed.</summary>
    public Task InvokeAsync(HandlerInvoker invoker, object handler, object? message, StreamContext context, CancellationToken cancellationToken)
    {
        if (context.Attempt == 1)
        {
            CountConsumed(1, context.Offset);
        }

        return _owner.IsProcessObserved
            ? InvokeObserved(invoker, handler, message, context, cancellationToken)
            : invoker.InvokeAsync(handler, message, context, cancellationToken);
    }

    /// <remarks>Kept out of line: inlined, its locals would weigh on every unobserved invocation's frame.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Task InvokeObserved(HandlerInvoker invoker, object handler, object? message, StreamContext context, CancellationToken cancellationToken)
    {
        var previous = Activity.Current;
        var activity = StartProcessSpan(context);
        var start = _owner.Time.GetTimestamp();
        Task invocation;
        try
        {
            invocation = invoker.InvokeAsync(handler, message, context, cancellationToken);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            invocation = Task.FromException(ex);
        }
        finally
        {
            // The span is current while the handler runs (its continuations keep it); the dispatch loop gets its own back.
            if (activity is not null)
            {
                Activity.Current = previous;
            }
        }

        return Observe(activity, invocation, start);
    }

    /// <summary>Invokes a batch handler: one <c>process</c> span linked to every message's producer context.</summary>
    public Task InvokeBatchAsync(HandlerInvoker invoker, object handler, IReadOnlyList<(object? Message, StreamContext Context)> items, CancellationToken cancellationToken)
    {
        if (items.Count > 0 && items[0].Context.Attempt == 1)
        {
            CountConsumed(items.Count, items[0].Context.Offset);
        }

        if (!_owner.IsProcessObserved)
        {
            return invoker.InvokeBatchAsync(handler, items, cancellationToken);
        }

        var previous = Activity.Current;
        var activity = StartProcessBatchSpan(items);
        var start = _owner.Time.GetTimestamp();
        Task invocation;
        try
        {
            invocation = invoker.InvokeBatchAsync(handler, items, cancellationToken);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            invocation = Task.FromException(ex);
        }
        finally
        {
            if (activity is not null)
            {
                Activity.Current = previous;
            }
        }

        return Observe(activity, invocation, start);
    }

    /// <summary>A <c>process</c> span for one message, when <see cref="StreamsTelemetryOptions.ProcessTracing"/> says it is traced.</summary>
    private Activity? StartProcessSpan(StreamContext context)
    {
        var tracing = _owner.Options.ProcessTracing;
        if (tracing == ProcessTracing.None)
        {
            return null;
        }

        ActivityContext? producer = TraceContext.TryExtract(context.RawApplicationProperties, out var extracted) ? extracted : null;
        if (tracing == ProcessTracing.Sampled && !(producer is { } p ? IsSampled(p) : _owner.SampleRoot()))
        {
            return null;
        }

        return StreamsActivitySource.StartProcess(_processSpanName, _processSpanTags, context, _owner.Options.ProcessSpanRelation, producer);
    }

    /// <summary>The one span of a batch: with <see cref="ProcessTracing.Sampled"/>, when a message says sampled, or some carry no context and the ratio says so.</summary>
    private Activity? StartProcessBatchSpan(IReadOnlyList<(object? Message, StreamContext Context)> items)
    {
        var tracing = _owner.Options.ProcessTracing;
        if (tracing == ProcessTracing.None)
        {
            return null;
        }

        List<ActivityLink>? links = null;
        bool anySampled = false, anyWithout = false;
        foreach (var item in items)
        {
            if (TraceContext.TryExtract(item.Context.RawApplicationProperties, out var producer))
            {
                (links ??= []).Add(new ActivityLink(producer));
                anySampled |= IsSampled(producer);
            }
            else
            {
                anyWithout = true;
            }
        }

        if (tracing == ProcessTracing.Sampled && !anySampled && !(anyWithout && _owner.SampleRoot()))
        {
            return null;
        }

        return StreamsActivitySource.StartProcessBatch(items, links);
    }

    private static bool IsSampled(in ActivityContext producer) => (producer.TraceFlags & ActivityTraceFlags.Recorded) != 0;

    /// <summary>Counts messages handed to the handler; atomic only when handlers run concurrently (one writer otherwise).</summary>
    private void CountConsumed(int count, ulong firstOffset)
    {
        if (_concurrent)
        {
            Interlocked.Add(ref _consumed, count);
        }
        else
        {
            Volatile.Write(ref _consumed, _consumed + count);
        }

        if (Volatile.Read(ref _firstSeen) < 0)
        {
            Interlocked.CompareExchange(ref _firstSeen, (long)firstOffset, -1);
        }
    }

    private Task Observe(Activity? activity, Task invocation, long start)
    {
        if (invocation.IsCompletedSuccessfully)
        {
            activity?.Dispose();
            _owner.Metrics.ProcessDuration.Record(_owner.Time.GetElapsedTime(start).TotalSeconds, _tags);
            return invocation;
        }

        return CompleteObservedAsync(activity, invocation, start);
    }

    private async Task CompleteObservedAsync(Activity? activity, Task invocation, long start)
    {
        try
        {
            await invocation.ConfigureAwait(false);
            _owner.Metrics.ProcessDuration.Record(_owner.Time.GetElapsedTime(start).TotalSeconds, _tags);
        }
        catch (Exception ex)
        {
            StreamsActivitySource.SetError(activity, ex);
            _owner.Metrics.ProcessDuration.Record(_owner.Time.GetElapsedTime(start).TotalSeconds, [.. _tags, new(SemanticConventions.ErrorType, StreamsActivitySource.ErrorType(ex))]);
            throw;
        }
        finally
        {
            activity?.Dispose();
        }
    }

    /// <summary>Counts one message dropped by the consumer's filter.</summary>
    public void CountFiltered() => Interlocked.Increment(ref _filtered);

    public void DeadLettered(int count) => _owner.Metrics.DeadLettered.Add(count, _tags);

    public Activity? StartSettle(ulong offset) => StreamsActivitySource.StartSettle(Key.Stream, Key.Partition, Key.Name ?? string.Empty, offset);

    public void Settled(Activity? activity, long start, Exception? error)
    {
        if (error is not null)
        {
            StreamsActivitySource.SetError(activity, error);
        }

        activity?.Dispose();
        if (_owner.Metrics.OperationDuration.Enabled)
        {
            KeyValuePair<string, object?>[] tags = [.. _tags];
            tags[1] = new(SemanticConventions.OperationName, SemanticConventions.OperationSettle);
            if (error is not null)
            {
                tags = [.. tags, new(SemanticConventions.ErrorType, StreamsActivitySource.ErrorType(error))];
            }

            _owner.Metrics.OperationDuration.Record(_owner.Time.GetElapsedTime(start).TotalSeconds, tags);
        }
    }

    public void Dispose() => _owner.RemoveConsumer(this);
}
