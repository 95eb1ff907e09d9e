using System.Collections.Concurrent;

namespace Streams.Hosting.Telemetry;

/// <summary>
/// Confirm latency and failures of the pooled producers, per stream and kind (plain or deduplicating), for the status
/// endpoints and the dashboard. Kept by <see cref="Internal.StreamPublisher"/> whether or not metrics listen: two
/// interlocked adds per publish.
/// </summary>
internal sealed class ProducerStatistics
{
    private readonly ConcurrentDictionary<(string Stream, bool Deduplicating), Entry> _entries = new();

    /// <summary>The entry of a stream's plain or deduplicating producer (created on first use).</summary>
    public Entry For(string stream, bool deduplicating) =>
        _entries.TryGetValue((stream, deduplicating), out var entry) ? entry : _entries.GetOrAdd((stream, deduplicating), static _ => new Entry());

    /// <summary>The entry when the producer published at least once.</summary>
    public Entry? Find(string stream, bool deduplicating) => _entries.TryGetValue((stream, deduplicating), out var entry) ? entry : null;

    /// <summary>Every stream and kind published to so far, with its counters.</summary>
    public IEnumerable<KeyValuePair<(string Stream, bool Deduplicating), Entry>> All => _entries;

    /// <summary>The counters of one producer.</summary>
    internal sealed class Entry
    {
        private long _confirmed;
        private long _failed;
        private long _latencyTicksTotal;
        private long _lastLatencyTicks = -1;
        private string? _lastError;

        public long Confirmed => Interlocked.Read(ref _confirmed);

        public long Failed => Interlocked.Read(ref _failed);

        public string? LastError => Volatile.Read(ref _lastError);

        public TimeSpan? LastConfirmLatency => Interlocked.Read(ref _lastLatencyTicks) is var ticks and >= 0 ? TimeSpan.FromTicks(ticks) : null;

        public TimeSpan? AverageConfirmLatency
        {
            get
            {
                var confirmed = Confirmed;
                return confirmed == 0 ? null : TimeSpan.FromTicks(Interlocked.Read(ref _latencyTicksTotal) / confirmed);
            }
        }

        /// <summary>A publish was confirmed <paramref name="latency"/> after it started.</summary>
        public void RecordConfirmed(TimeSpan latency)
        {
            Interlocked.Add(ref _latencyTicksTotal, latency.Ticks);
            Interlocked.Exchange(ref _lastLatencyTicks, latency.Ticks);
            Interlocked.Increment(ref _confirmed);
        }

        /// <summary>
        /// A publish failed (not cancelled by its caller). Returns false: it is called from an exception filter that
        /// lets the specific handlers run.
        /// </summary>
        public bool RecordFailed(Exception error, CancellationToken callerToken)
        {
            if (!callerToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _failed);
                Volatile.Write(ref _lastError, error.Message);
            }

            return false;
        }
    }
}
