using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streams.Client;
using Streams.Hosting.Telemetry;

namespace Streams.Hosting.Internal;

/// <summary>
/// One producer per stream (and one more per stream for deduplicated publishing), created on first use, shared by
/// every caller, replaced when closed, drained and disposed with the container.
/// </summary>
internal sealed class ProducerPool : IAsyncDisposable
{
    private readonly StreamSystemProvider _systems;
    private readonly IOptions<RabbitStreamsOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly StreamsInstrumentation _telemetry;
    private readonly ConcurrentDictionary<(string Stream, bool Dedup), Lazy<Task<Producer>>> _producers = new();
    private volatile bool _disposed;

    public ProducerPool(StreamSystemProvider systems, IOptions<RabbitStreamsOptions> options, TimeProvider time, ILoggerFactory loggerFactory, StreamsInstrumentation telemetry)
    {
        _telemetry = telemetry;
        telemetry.AttachPool(this);
        _systems = systems;
        _options = options;
        _time = time;
        _logger = loggerFactory.CreateLogger("Streams.Hosting.Publishing");
    }

    public int Count => _producers.Count;

    /// <summary>The producers created so far (for diagnostics).</summary>
    public IReadOnlyList<Producer> Snapshot() =>
        _producers.Values.Where(l => l.IsValueCreated && l.Value.IsCompletedSuccessfully).Select(l => l.Value.Result).ToArray();

    public async ValueTask<Producer> GetAsync(string stream, bool deduplicating, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);

        // While the broker is not reachable, wait for the background connect with the caller's token (its publish
        // timeout): the shared creation below then only creates the producer.
        await _systems.GetAsync(cancellationToken).ConfigureAwait(false);
        var key = (stream, deduplicating);
        while (true)
        {
            var lazy = _producers.GetOrAdd(key, k => new Lazy<Task<Producer>>(() => CreateAsync(k.Stream, k.Dedup)));
            Producer producer;
            try
            {
                producer = await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                _producers.TryRemove(new KeyValuePair<(string, bool), Lazy<Task<Producer>>>(key, lazy));
                throw;
            }

            if (producer.IsOpen)
            {
                return producer;
            }

            if (_producers.TryRemove(new KeyValuePair<(string, bool), Lazy<Task<Producer>>>(key, lazy)))
            {
                Log.ProducerReplaced(_logger, stream);
                _telemetry.ProducerReplaced(stream);
                _ = DisposeQuietlyAsync(producer);
            }
        }
    }

    private async Task<Producer> CreateAsync(string stream, bool deduplicating)
    {
        // Not tied to one caller's token: the producer is shared. Creation is bounded by the request timeout.
        var options = _options.Value;
        using var timeout = new CancellationTokenSource(options.RequestTimeout * 2, _time);
        var system = await _systems.GetAsync(timeout.Token).ConfigureAwait(false);
        var publishing = options.Publishing;
        string? reference;
        if (deduplicating)
        {
            reference = publishing.DeduplicationProducerName ?? throw new InvalidOperationException(
                "PublishOptions.DeduplicationId needs RabbitStreams:Publishing:DeduplicationProducerName (the stable publisher reference the broker deduplicates on).");
        }
        else
        {
            // With a name, the messages published without an id are numbered by the client under a reference of their
            // own (never mixed with the caller's ids): after a lost connection it re-sends the unconfirmed ones and the
            // broker drops those it already stored, so callers see no "fate unknown" error.
            reference = publishing.DeduplicationProducerName is { } name ? name + RabbitStreamsPublishingOptions.AutomaticIdsSuffix : null;
        }

        var producerOptions = new ProducerOptions(stream)
        {
            Name = reference,
            MaxUnconfirmed = publishing.MaxUnconfirmed,
            BatchSize = publishing.BatchSize,
            ConfirmTimeout = publishing.Timeout,
            TimeProvider = _time,
            Recovery = options.Recovery.ToRecoveryPolicy(_time),
            SubEntrySize = publishing.SubEntrySize,
            Compression = publishing.Compression,

            // Sub-entry batches are Publish v1 only: no filter values (PublishOptions.FilterValue is refused then).
            FilterValue = publishing.SubEntrySize > 1 ? null : StreamFilter.ProducerFilterValue,
        };
        Producer producer;
        try
        {
            producer = await system.CreateProducerAsync(producerOptions, timeout.Token).ConfigureAwait(false);
        }
        catch (NotSupportedException)
        {
            // A broker without Publish v2 (before 3.13): no filter values.
            producerOptions.FilterValue = null;
            producer = await system.CreateProducerAsync(producerOptions, timeout.Token).ConfigureAwait(false);
        }

        // The client recovers a lost producer in place: count each recovery as a reconnect, like a replacement.
        producer.StatusChanged += (_, e) =>
        {
            if (e.Status == StreamStatus.Reconnecting && e.Previous != StreamStatus.Reconnecting)
            {
                Log.ProducerReconnecting(_logger, stream, e.Exception);
                _telemetry.ProducerReplaced(stream);
            }
        };
        Log.ProducerCreated(_logger, stream, reference);
        return producer;
    }

    private async Task DisposeQuietlyAsync(Producer producer)
    {
        try
        {
            await producer.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.ProducerDisposeFailed(_logger, producer.Stream, ex);
        }
    }

    /// <summary>Drains (waits for outstanding confirms within the producer's drain timeout) and disposes every producer.</summary>
    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        var disposals = new List<Task>();
        foreach (var entry in _producers)
        {
            if (entry.Value.IsValueCreated && entry.Value.Value.IsCompletedSuccessfully)
            {
                disposals.Add(DisposeQuietlyAsync(entry.Value.Value.Result));
            }
        }

        _producers.Clear();
        await Task.WhenAll(disposals).ConfigureAwait(false);
    }
}
