using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Streams.Client;
using Streams.Hosting.Internal;

namespace Streams.Hosting.Telemetry;

/// <summary>
/// The telemetry of one container: metrics, the per-consumer telemetry (state, lag) and the hooks the publisher
/// and the consumer workers call. Every hook is a flag check when nothing listens.
/// </summary>
internal sealed class StreamsInstrumentation : IRabbitStreamsDiagnostics
{
    private readonly ConcurrentDictionary<ConsumerKey, ConsumerTelemetry> _consumers = new();
    private ProducerPool? _pool;
    private StreamPublishingStatus _publishing = new(null, null);

    public StreamsInstrumentation(IMeterFactory meterFactory, IOptions<StreamsTelemetryOptions> options, TimeProvider time)
    {
        Options = options.Value;
        Time = time;
        Metrics = new StreamsMetrics(meterFactory, this);
    }

    public StreamsTelemetryOptions Options { get; }

    public TimeProvider Time { get; }

    public StreamsMetrics Metrics { get; }

    public IEnumerable<ConsumerTelemetry> Consumers => _consumers.Values;

    /// <summary>Whether a publish needs the instrumented path (a span, a metric, or an ambient context to propagate).</summary>
    public bool IsSendObserved =>
        StreamsActivitySource.Source.HasListeners()
        || Metrics.OperationDuration.Enabled
        || Metrics.SentMessages.Enabled
        || Metrics.PublishErrors.Enabled
        || (Options.PropagateTraceContext && Activity.Current is not null);

    public bool IsProcessObserved =>
        StreamsActivitySource.Source.HasListeners() || Metrics.ProcessDuration.Enabled;

    /// <summary>Whether a message or batch without a (sampled) trace context is traced, by <see cref="StreamsTelemetryOptions.ProcessSamplingRatio"/>.</summary>
    public bool SampleRoot()
    {
        double ratio = Options.ProcessSamplingRatio;
        return ratio >= 1 || (ratio > 0 && Random.Shared.NextDouble() < ratio);
    }

    public void AttachPool(ProducerPool pool) => Volatile.Write(ref _pool, pool);

    /// <summary>Registers a consumer's telemetry; <paramref name="concurrent"/> is true when it runs handlers concurrently (its counters then need atomic updates).</summary>
    public ConsumerTelemetry AddConsumer(Type handlerType, string stream, string? partition, string? name, Func<StreamConsumerStatus> status, bool concurrent = false)
    {
        var telemetry = new ConsumerTelemetry(this, new ConsumerKey(handlerType, stream, partition, name), status, concurrent);
        _consumers[telemetry.Key] = telemetry;
        return telemetry;
    }

    public void RemoveConsumer(ConsumerTelemetry telemetry) =>
        _consumers.TryRemove(new KeyValuePair<ConsumerKey, ConsumerTelemetry>(telemetry.Key, telemetry));

    /// <summary>Publishes with a <c>send</c> span and the send metrics; the trace context goes into the message.</summary>
    public async Task PublishAsync(string destination, Message message, Func<Task<string?>> send)
    {
        var activity = StreamsActivitySource.StartSend(destination, message);
        if (Options.PropagateTraceContext && (activity ?? Activity.Current) is { } context)
        {
            TraceContext.Inject(context, message);
        }

        var start = Time.GetTimestamp();
        string? partition = null;
        try
        {
            partition = await send().ConfigureAwait(false);
            if (partition is not null)
            {
                activity?.SetTag(SemanticConventions.DestinationPartitionId, partition);
            }

            RecordSend(destination, partition, null, start);
        }
        catch (Exception ex)
        {
            var errorType = ex is StreamPublishException { InnerException: { } inner } ? StreamsActivitySource.ErrorType(inner) : StreamsActivitySource.ErrorType(ex);
            activity?.SetTag(SemanticConventions.ErrorType, errorType);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            activity?.AddException(ex);
            RecordSend(destination, partition, errorType, start);
            Metrics.PublishErrors.Add(1, StreamsMetrics.SendTags(destination, partition, errorType));
            throw;
        }
        finally
        {
            activity?.Dispose();
        }
    }

    private void RecordSend(string destination, string? partition, string? errorType, long start)
    {
        var tags = StreamsMetrics.SendTags(destination, partition, errorType);
        Metrics.SentMessages.Add(1, tags);
        Metrics.OperationDuration.Record(Time.GetElapsedTime(start).TotalSeconds, tags);
    }

    /// <summary>A publish was confirmed: publishing works (a reference read and compare when it already did).</summary>
    public void PublishSucceeded()
    {
        if (Volatile.Read(ref _publishing).FailingSince is not null)
        {
            Volatile.Write(ref _publishing, new StreamPublishingStatus(null, null));
        }
    }

    /// <summary>A publish timed out or could not reach the broker.</summary>
    public void PublishFailed(Exception error)
    {
        var current = Volatile.Read(ref _publishing);
        Volatile.Write(ref _publishing, new StreamPublishingStatus(current.FailingSince ?? Time.GetUtcNow(), error.Message));
    }

    public StreamPublishingStatus GetPublishing() => Volatile.Read(ref _publishing);

    public void ProducerReplaced(string stream) =>
        Metrics.Reconnects.Add(1, new KeyValuePair<string, object?>(SemanticConventions.ConnectionRole, "producer"), new KeyValuePair<string, object?>(SemanticConventions.DestinationName, stream));

    public StreamConsumerDiagnostics? GetConsumer(StreamConsumerStatus consumer)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        return _consumers.TryGetValue(new ConsumerKey(consumer.HandlerType, consumer.Stream, consumer.Partition, consumer.Name), out var telemetry)
            ? telemetry.GetDiagnostics()
            : null;
    }

    public IReadOnlyList<StreamProducerStatus> GetProducers() =>
        Volatile.Read(ref _pool)?.Snapshot().Select(p => new StreamProducerStatus(p.Stream, p.Name, p.IsOpen, p.UnconfirmedCount)).ToArray() ?? [];

    internal IEnumerable<Measurement<long>> ObserveLag()
    {
        foreach (var consumer in _consumers.Values)
        {
            if (consumer.Lag is { } lag)
            {
                yield return new Measurement<long>(lag, consumer.MetricTags);
            }
        }
    }

    internal IEnumerable<Measurement<long>> ObserveConsumed()
    {
        foreach (var consumer in _consumers.Values)
        {
            yield return new Measurement<long>(consumer.Consumed, consumer.MetricTags);
        }
    }

    internal IEnumerable<Measurement<long>> ObserveFiltered()
    {
        foreach (var consumer in _consumers.Values)
        {
            yield return new Measurement<long>(consumer.Filtered, consumer.MetricTags);
        }
    }

    internal IEnumerable<Measurement<long>> ObserveInFlight()
    {
        if (Volatile.Read(ref _pool) is not { } pool)
        {
            yield break;
        }

        foreach (var group in pool.Snapshot().GroupBy(p => p.Stream, StringComparer.Ordinal))
        {
            yield return new Measurement<long>(
                group.Sum(p => (long)p.UnconfirmedCount),
                new KeyValuePair<string, object?>(SemanticConventions.MessagingSystem, SemanticConventions.MessagingSystemRabbitMq),
                new KeyValuePair<string, object?>(SemanticConventions.DestinationName, group.Key));
        }
    }

    internal readonly record struct ConsumerKey(Type HandlerType, string Stream, string? Partition, string? Name);
}
