using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streams.Client;
using Streams.Hosting.Internal.Backend;
using Streams.Hosting.Internal.Pipeline;
using Streams.Hosting.Telemetry;

namespace Streams.Hosting.Internal;

internal sealed class StreamPublisher : IStreamPublisher, IAsyncDisposable
{
    private readonly IStreamsBackend _backend;
    private readonly IConsumeObserver? _observer;
    private readonly MessageSerialization _serialization;
    private readonly IOptions<RabbitStreamsOptions> _options;
    private readonly TimeProvider _time;
    private readonly StreamsInstrumentation _telemetry;
    private readonly ILogger _routerLogger;
    private readonly StreamTopologyInitializer? _topology;
    private int _disposed;

    /// <summary>One router per super stream published to, created on first use, following its partitions.</summary>
    private readonly ConcurrentDictionary<string, Lazy<Task<SuperStreamRouter>>> _routers = new(StringComparer.Ordinal);

    public StreamPublisher(
        IStreamsBackend backend,
        MessageSerialization serialization,
        IOptions<RabbitStreamsOptions> options,
        TimeProvider time,
        StreamsInstrumentation telemetry,
        ILoggerFactory loggerFactory,
        IConsumeObserver? observer = null,
        StreamTopologyInitializer? topology = null)
    {
        _topology = topology;
        _routerLogger = loggerFactory.CreateLogger<SuperStreamRouter>();
        _telemetry = telemetry;
        _backend = backend;
        _observer = observer;
        _serialization = serialization;
        _options = options;
        _time = time;
    }

    public Task PublishAsync<T>(string stream, T message, PublishOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stream);
        if (message is null)
        {
            throw new ArgumentNullException(nameof(message));
        }

        if (options?.FilterValue is not null && _options.Value.Publishing.SubEntrySize > 1)
        {
            throw new ArgumentException(
                $"PublishOptions.FilterValue cannot be used while {RabbitStreamsOptions.SectionName}:Publishing:SubEntrySize is {_options.Value.Publishing.SubEntrySize}: sub-entry batches carry no filter values.",
                nameof(options));
        }

        cancellationToken.ThrowIfCancellationRequested();
        var amqp = _serialization.ToMessage(message);
        Apply(amqp, options);
        Task publish;
        if (_telemetry.IsSendObserved)
        {
            publish = _telemetry.PublishAsync(stream, amqp, () => SendOrRouteAsync(stream, amqp, options, cancellationToken));
        }
        else
        {
            publish = options?.RoutingKey is { } routingKey
                ? SendRoutedAsync(stream, routingKey, amqp, options.DeduplicationId, cancellationToken)
                : SendAsync(stream, amqp, options?.DeduplicationId, cancellationToken);
        }

        return _observer is null ? publish : ObservedAsync(publish, stream, message, typeof(T), options);
    }

    /// <summary>Tells the observer (the test harness) about a publish once the broker confirmed it.</summary>
    private async Task ObservedAsync(Task publish, string stream, object message, Type messageType, PublishOptions? options)
    {
        await publish.ConfigureAwait(false);
        _observer!.Published(stream, message, messageType, options);
    }

    /// <summary>Publishes; returns the partition for a routed publish.</summary>
    private async Task<string?> SendOrRouteAsync(string stream, Message message, PublishOptions? options, CancellationToken cancellationToken)
    {
        if (options?.RoutingKey is { } routingKey)
        {
            return await SendRoutedAsync(stream, routingKey, message, options.DeduplicationId, cancellationToken).ConfigureAwait(false);
        }

        await SendAsync(stream, message, options?.DeduplicationId, cancellationToken).ConfigureAwait(false);
        return null;
    }

    /// <summary>Publishes to the partition(s) the routing key selects; returns the (first) partition.</summary>
    private async Task<string> SendRoutedAsync(string superStream, string routingKey, Message message, ulong? deduplicationId, CancellationToken cancellationToken)
    {
        var router = await GetRouterAsync(superStream, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<string> routed;
        try
        {
            routed = await router.RouteAsync(routingKey, cancellationToken).ConfigureAwait(false);
        }
        catch (SuperStreamRoutingException ex)
        {
            throw new StreamPublishException(superStream, $"Cannot publish to super stream '{superStream}': no partition is bound to routing key '{routingKey}'.", ex);
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or OutOfMemoryException))
        {
            throw new StreamPublishException(superStream, $"Cannot publish to super stream '{superStream}': the partitions bound to its routing key could not be queried ({ex.Message}).", ex);
        }

        if (routed.Count == 1)
        {
            await SendAsync(routed[0], message, deduplicationId, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await Task.WhenAll(routed.Select(p => SendAsync(p, message, deduplicationId, cancellationToken))).ConfigureAwait(false);
        }

        return routed[0];
    }

    /// <summary>
    /// The client's router of <paramref name="superStream"/>: hash or key routing as configured, re-reading the
    /// partitions every RabbitStreams:SuperStreams:PartitionRefreshInterval. A failed creation is not kept.
    /// </summary>
    private async Task<SuperStreamRouter> GetRouterAsync(string superStream, CancellationToken cancellationToken)
    {
        var lazy = _routers.GetOrAdd(superStream, s => new Lazy<Task<SuperStreamRouter>>(() => CreateRouterAsync(s)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _routers.TryRemove(new KeyValuePair<string, Lazy<Task<SuperStreamRouter>>>(superStream, lazy));
            throw ex is StreamDoesNotExistException
                ? new StreamPublishException(superStream, $"Cannot publish to super stream '{superStream}': it has no partitions (does it exist?).", null)
                : new StreamPublishException(superStream, $"Cannot publish to super stream '{superStream}': its partitions could not be queried ({ex.Message}).", ex);
        }
    }

    private async Task<SuperStreamRouter> CreateRouterAsync(string superStream)
    {
        // Shared by every caller: bounded by the request timeout, not one caller's token.
        var options = _options.Value;
        var interval = options.SuperStreams.PartitionRefreshIntervalFor(superStream);
        var routerOptions = new SuperStreamRouterOptions(superStream)
        {
            RoutingStrategy = options.Publishing.SuperStreamRouting.TryGetValue(superStream, out var strategy) ? strategy : SuperStreamRoutingStrategy.Hash,
            PartitionRefreshInterval = interval == Timeout.InfiniteTimeSpan ? null : interval,
            TimeProvider = _time,
        };
        using var timeout = new CancellationTokenSource(options.RequestTimeout * 2, _time);
        var router = await SuperStreamRouter.CreateAsync(_backend, routerOptions, _routerLogger, timeout.Token).ConfigureAwait(false);
        if (Volatile.Read(ref _disposed) != 0)
        {
            await router.DisposeAsync().ConfigureAwait(false);
            throw new ObjectDisposedException(nameof(StreamPublisher));
        }

        return router;
    }

    /// <summary>Stops the routers' partition refreshes.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var lazy in _routers.Values)
        {
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
            {
                await lazy.Value.Result.DisposeAsync().ConfigureAwait(false);
            }
        }

        _routers.Clear();
    }

    /// <summary>
    /// Waits (within the publish timeout) until the streams declared with AddStream / AddSuperStream exist: while the
    /// host connects in the background, or declares them during its start, a publish to one of them would otherwise
    /// reach the broker first and be told the stream does not exist. When declaring failed, or the host stopped before
    /// it was done, the send goes ahead and reports what the broker says.
    /// </summary>
    private static async Task WhenDeclaredAsync(StreamTopologyInitializer topology, CancellationToken cancellationToken)
    {
        try
        {
            await topology.WhenReadyAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Declaring failed for good (logged and reported by the health check) or was cancelled by the host's stop.
        }
    }

    /// <summary>Publishes an already built message and waits for its confirm (also used for dead letters).</summary>
    internal async Task SendAsync(string stream, Message message, ulong? deduplicationId, CancellationToken cancellationToken)
    {
        var timeout = _options.Value.Publishing.Timeout;
        using var timeoutSource = timeout == Timeout.InfiniteTimeSpan ? new CancellationTokenSource() : new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        var statistics = _telemetry.Producers.For(stream, deduplicationId is not null);
        var start = _time.GetTimestamp();
        try
        {
            if (_topology is { IsReady: false, Fault: null } topology)
            {
                await WhenDeclaredAsync(topology, linked.Token).ConfigureAwait(false);
            }

            await _backend.SendAsync(stream, message, deduplicationId, linked.Token).ConfigureAwait(false);
            statistics.RecordConfirmed(_time.GetElapsedTime(start));
            _telemetry.PublishSucceeded();
        }
        catch (Exception ex) when (statistics.RecordFailed(ex, cancellationToken))
        {
            throw; // Not reached: the filter counts the failure and lets the handlers below run.
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested && timeoutSource.IsCancellationRequested)
        {
            if (_backend.Phase != ConnectionPhase.Connected)
            {
                // Still connecting (the broker has been down since the start): not a confirm timeout, nothing was sent.
                // The health check reports the connection itself (not as a publishing failure that outlives it).
                var cause = _backend.LastError ?? ex;
                throw new StreamPublishException(
                    stream,
                    $"Cannot publish to stream '{stream}': the broker is not reachable ({_backend.Endpoints}; no connection within RabbitStreams:Publishing:Timeout = {timeout}): {cause.Message}",
                    cause);
            }

            _telemetry.PublishFailed(ex);
            throw new StreamPublishTimeoutException(stream, timeout, ex);
        }
        catch (ConfirmationTimeoutException ex)
        {
            _telemetry.PublishFailed(ex);
            throw new StreamPublishTimeoutException(stream, timeout, ex);
        }
        catch (ProducerRecoveryException ex)
        {
            // Only an unnamed producer fails its unconfirmed messages on recovery; a named one re-sends them.
            _telemetry.PublishFailed(ex);
            throw StreamPublishOutcomeUnknownException.ConfirmLost(stream, ex);
        }
        catch (StreamDoesNotExistException ex)
        {
            throw new StreamPublishException(stream, $"Cannot publish to stream '{stream}': it does not exist (declare it with AddStream or create it first).", ex);
        }
        catch (PublishException ex)
        {
            throw new StreamPublishException(stream, $"The broker rejected a message published to stream '{stream}': {ex.Code}.", ex);
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or ObjectDisposedException or OutOfMemoryException))
        {
            // Connection failures (sockets, TLS, authentication), a closed producer, a message too large for a frame...
            _telemetry.PublishFailed(ex);
            throw new StreamPublishException(stream, $"Publishing to stream '{stream}' failed: {ex.Message}", ex);
        }
    }

    private static void Apply(Message message, PublishOptions? options)
    {
        if (options is null)
        {
            return;
        }

        if (options.MessageId is not null || options.CorrelationId is not null || options.RoutingKey is not null || options.GroupId is not null)
        {
            message.Properties ??= new MessageProperties();
            if ((options.GroupId ?? options.RoutingKey) is { } groupId)
            {
                message.Properties.GroupId = groupId;
            }

            if (options.MessageId is not null)
            {
                message.Properties.MessageId = options.MessageId;
            }

            if (options.CorrelationId is not null)
            {
                message.Properties.CorrelationId = options.CorrelationId;
            }
        }

        if (options.Headers is { Count: > 0 } || options.FilterValue is not null)
        {
            message.ApplicationProperties ??= new Dictionary<string, object?>(StringComparer.Ordinal);
            if (options.Headers is not null)
            {
                foreach (var header in options.Headers)
                {
                    message.ApplicationProperties[header.Key] = header.Value;
                }
            }

            if (options.FilterValue is not null)
            {
                message.ApplicationProperties[PublishOptions.FilterValueHeader] = options.FilterValue;
            }
        }
    }
}
