using System.Runtime.CompilerServices;
using Streams.Client;
using Streams.Hosting.Internal.Backend;
using Streams.Hosting.Telemetry;

namespace Streams.Hosting.Internal.Pipeline;

/// <summary>
/// The stages one hosted consumer runs its deliveries through: decode (<see cref="DeliveryDecoder"/>), the
/// filter-value re-check (<see cref="FilterValueCheck"/>), deserialize, activate (<see cref="HandlerActivator"/>),
/// invoke, retry and failure policy (<see cref="FailureHandler"/>), then offset commit (<see cref="OffsetCommitter"/>),
/// in order, in chunk batches, or over lanes (<see cref="LaneDispatcher"/>). It reads an <see cref="IDeliverySource"/>:
/// the client's consumer, or the in-memory log of the test harness.
/// </summary>
internal sealed partial class ConsumerPipeline
{
    private readonly ConsumerRegistration _registration;
    private readonly ConsumerWorkerServices _services;
    private readonly HandlerInvoker _invoker;
    private readonly HandlerActivator _activator;
    private readonly FailureHandler _failure;
    private readonly FilterValueCheck _filterValues;
    private readonly OffsetCommitter _committer;
    private readonly ConsumerCounters _counters;
    private readonly ConsumerTelemetry _telemetry;
    private readonly IConsumeObserver? _observer;
    private readonly StreamContext.Source _contextSource;
    private readonly string _source;
    private readonly int _maxBatch;
    private readonly int _laneCount;
    private readonly Control.PauseGate _gate;

    /// <summary>Consume filters wrap the handler: the invoker is a <see cref="ConsumeFilterInvoker"/>, handed a <see cref="FilteredInvocation"/>.</summary>
    private readonly bool _filtered;

    /// <summary>The handler takes <c>byte[]</c>: a body-alone entry's copied body is handed over as it is.</summary>
    private readonly bool _bodyAsBytes;

    public ConsumerPipeline(
        ConsumerRegistration registration,
        StreamConsumerOptions options,
        string? partition,
        HandlerFailurePolicy policy,
        int maxBatch,
        ConsumerWorkerServices services,
        ConsumerTelemetry telemetry,
        OffsetCommitter committer,
        ConsumerCounters counters,
        Control.PauseGate gate)
    {
        _gate = gate;
        _registration = registration;
        _services = services;
        _telemetry = telemetry;
        _observer = services.Observer;
        _committer = committer;
        _counters = counters;
        _source = partition ?? options.Stream;
        _maxBatch = maxBatch;
        _laneCount = options.MaxConcurrency > 1 && !registration.IsBatch ? options.MaxConcurrency : 1;
        var invoker = HandlerInvoker.Create(registration.MessageType);
        var filters = FiltersOf(registration, options, services.ConsumeFilters);
        _filtered = filters.Count > 0;
        _invoker = _filtered ? new ConsumeFilterInvoker(invoker, filters, registration.HandlerType, registration.MessageType, services.IsService) : invoker;
        _activator = new HandlerActivator(registration.HandlerType, services, scopeRequired: _filtered);
        _failure = new FailureHandler(policy, services, telemetry, counters, registration.HandlerType, registration.MessageType, _source, options.Name);
        _filterValues = new FilterValueCheck(options, telemetry, services.Logger, registration.HandlerType.Name, _source);
        _contextSource = new StreamContext.Source(options.Stream, partition, options.Name);
        _bodyAsBytes = registration.MessageType == typeof(byte[]);
    }

    /// <summary>The consume filters of a consumer: the global ones, then its own; none for a batch handler (its own fail the start).</summary>
    private static IReadOnlyList<Type> FiltersOf(ConsumerRegistration registration, StreamConsumerOptions options, IReadOnlyList<Type> global)
    {
        if (!registration.IsBatch)
        {
            return [.. global, .. options.Filters];
        }

        return options.Filters.Count == 0
            ? []
            : throw new InvalidOperationException(
                $"Stream consumer '{registration}' is a batch handler (IStreamBatchHandler<{registration.MessageType.Name}>): consume filters wrap single-message " +
                $"invocations and are not supported for batches. Remove AddFilter<{options.Filters[0].Name}>() from it (filters added with AddConsumeFilter skip batch consumers).");
    }

    /// <summary>Handlers run on lanes (MaxConcurrency above 1, not a batch handler).</summary>
    public bool IsConcurrent => _laneCount > 1;

    /// <summary>Reads <paramref name="source"/> until it ends or <paramref name="stopping"/> is signalled (thrown).</summary>
    public async Task RunAsync(IDeliverySource source, CancellationToken stopping, CancellationToken abort)
    {
        using (_committer.StartTimer())
        {
            if (IsConcurrent)
            {
                await new LaneDispatcher(_laneCount, (item, halt, a) => HandleOneAsync(item, halt, a), _committer, _gate)
                    .RunAsync(ReadItemsAsync(source, stopping), stopping, abort).ConfigureAwait(false);
            }
            else if (_registration.IsBatch)
            {
                await ProcessBatchesSequentiallyAsync(source, stopping, abort).ConfigureAwait(false);
            }
            else
            {
                await ProcessSequentiallyAsync(source, stopping, abort).ConfigureAwait(false);
            }
        }

        stopping.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// The per-message step of the in-order path: decode, re-check the filter value, handle.
    /// </summary>
    /// <remarks>
    /// Not inlined into the read loop on purpose: that loop rarely returns (messages are buffered), so its state
    /// machine keeps running the code it was entered with (an on-stack-replacement version); a separate method is
    /// called per message and gets fully optimized with profile data.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal Task HandleDelivery(in StreamDelivery delivery, CancellationToken stopping, CancellationToken abort)
    {
        var item = DeliveryDecoder.ToItem(delivery);
        return _filterValues.Matches(item) ? HandleOneAsync(item, stopping, abort) : Task.CompletedTask;
    }

    private async Task ProcessSequentiallyAsync(IDeliverySource source, CancellationToken stopping, CancellationToken abort)
    {
        await foreach (var delivery in source.ReadAllAsync(stopping).ConfigureAwait(false))
        {
            // Only the offset lives across the await: the common, synchronous case stores nothing in the state machine.
            var offset = delivery.Offset;
            var entered = _gate.EnterAsync(stopping);
            if (!entered.IsCompletedSuccessfully)
            {
                // Paused: the delivery in hand waits (its body stays valid: nothing else is read meanwhile).
                await entered.ConfigureAwait(false);
            }

            var handled = HandleDelivery(delivery, stopping, abort);
            if (!handled.IsCompletedSuccessfully)
            {
                await handled.ConfigureAwait(false);
            }

            _committer.MarkProcessed(offset, 1);
            _gate.Exit();
            if (_committer.IsDue)
            {
                await _committer.CommitAsync().ConfigureAwait(false);
            }

            // Buffered messages are yielded without looking at the token: stop after the message in hand.
            stopping.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// Batches in order, read straight from the source: the messages of one chunk (at most MaxBatchSize) go to the
    /// handler together. A batch is handed over when the chunk changes, when it is full, or as soon as the source has
    /// nothing more buffered, so that no message waits for the next chunk.
    /// </summary>
    private async Task ProcessBatchesSequentiallyAsync(IDeliverySource source, CancellationToken stopping, CancellationToken abort)
    {
        var batch = new List<DeliveryItem>(_maxBatch);
        var deliveries = source.ReadAllAsync(stopping).GetAsyncEnumerator(stopping);
        var reading = false;
        try
        {
            while (true)
            {
                var next = deliveries.MoveNextAsync();
                reading = true;
                if (!next.IsCompleted && batch.Count > 0)
                {
                    await HandleBatchInOrderAsync(batch, stopping, abort).ConfigureAwait(false);
                }

                var more = await next.ConfigureAwait(false);
                reading = false;
                if (!more)
                {
                    break;
                }

                var delivery = deliveries.Current;
                if (batch.Count > 0 && (batch.Count == _maxBatch || batch[0].ChunkId != delivery.ChunkId))
                {
                    await HandleBatchInOrderAsync(batch, stopping, abort).ConfigureAwait(false);
                }

                var item = DeliveryDecoder.ToItem(delivery);
                batch.Add(_filterValues.Matches(item) ? item : item with { Filtered = true });
            }
        }
        finally
        {
            // A read still in flight (the handler failed meanwhile) ends when the subscription is disposed; an iterator
            // cannot be disposed while it is being read.
            if (!reading)
            {
                await deliveries.DisposeAsync().ConfigureAwait(false);
            }
        }

        if (batch.Count > 0)
        {
            await HandleBatchInOrderAsync(batch, stopping, abort).ConfigureAwait(false);
        }
    }

    private async Task HandleBatchInOrderAsync(List<DeliveryItem> batch, CancellationToken stopping, CancellationToken abort)
    {
        // Stop after the batch in hand: messages read but not handled are not marked processed (nor stored).
        stopping.ThrowIfCancellationRequested();
        await _gate.EnterAsync(stopping).ConfigureAwait(false);
        await HandleBatchAsync(batch, stopping, abort).ConfigureAwait(false);
        _committer.MarkProcessed(batch[^1].Offset, batch.Count);
        _gate.Exit();
        batch.Clear();
        if (_committer.IsDue)
        {
            await _committer.CommitAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The items for the lanes: decoded and filter-checked (a filtered item still goes, so that the watermark moves past it).</summary>
    private static async IAsyncEnumerable<DeliveryItem> ReadItems(IDeliverySource source, FilterValueCheck filterValues, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var delivery in source.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            var item = DeliveryDecoder.ToItem(delivery);
            yield return filterValues.Matches(item) ? item : item with { Filtered = true };
        }
    }

    private IAsyncEnumerable<DeliveryItem> ReadItemsAsync(IDeliverySource source, CancellationToken cancellationToken) =>
        ReadItems(source, _filterValues, cancellationToken);
}
