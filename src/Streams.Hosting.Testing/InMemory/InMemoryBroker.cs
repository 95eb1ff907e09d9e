using Streams.Client;

namespace Streams.Hosting.Testing.InMemory;

/// <summary>
/// The broker of the test harness: streams (offsets from 0, chunk timestamps from the host's <see cref="TimeProvider"/>),
/// super streams (partitions and binding keys, as <c>rabbitmq-streams add_super_stream</c> makes them), stored
/// consumer offsets (each written into its stream as a tracking chunk, as the broker does: it takes an offset) and publisher deduplication (publishing ids per producer reference and stream). Thread-safe.
/// </summary>
internal sealed class InMemoryBroker
{
    private readonly object _sync = new();
    private readonly Dictionary<string, InMemoryStream> _streams = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string[] Partitions, string[] BindingKeys)> _superStreams = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Reference, string Stream), ulong> _offsets = [];
    private readonly Dictionary<(string Stream, string Reference), ulong> _publishingIds = [];
    private readonly TimeProvider _time;

    public InMemoryBroker(TimeProvider time)
    {
        _time = time;
    }

    /// <summary>Creates a stream; false when it exists with the same arguments (different ones throw, as the broker refuses them).</summary>
    public bool CreateStream(string name, StreamSpec? spec)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        lock (_sync)
        {
            if (_streams.TryGetValue(name, out var existing))
            {
                var requested = spec?.ToString() ?? new StreamSpec().ToString();
                return existing.Spec == requested
                    ? false
                    : throw new StreamAlreadyExistsWithDifferentArgumentsException(name, $"Stream '{name}' already exists with different arguments ({existing.Spec}; requested {requested}).");
            }

            _streams.Add(name, new InMemoryStream(name, spec));
            return true;
        }
    }

    /// <summary>Creates a super stream and its partitions; false when it exists.</summary>
    public bool CreateSuperStream(string name, IReadOnlyList<string> partitions, IReadOnlyList<string> bindingKeys, StreamSpec? spec)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(partitions);
        ArgumentNullException.ThrowIfNull(bindingKeys);
        if (partitions.Count == 0 || partitions.Count != bindingKeys.Count)
        {
            throw new ArgumentException($"Super stream '{name}' needs one binding key per partition (got {partitions.Count} partitions, {bindingKeys.Count} keys).", nameof(bindingKeys));
        }

        lock (_sync)
        {
            if (_superStreams.ContainsKey(name))
            {
                return false;
            }

            foreach (var partition in partitions)
            {
                CreateStream(partition, spec);
            }

            _superStreams.Add(name, ([.. partitions], [.. bindingKeys]));
            return true;
        }
    }

    /// <summary>
    /// Binds <paramref name="partition"/> (created when missing) to <paramref name="superStream"/> as its last partition
    /// with <paramref name="bindingKey"/>, as declaring a stream and binding it with the next
    /// <c>x-stream-partition-order</c> does on the broker.
    /// </summary>
    public void AddPartition(string superStream, string partition, string bindingKey)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(superStream);
        ArgumentException.ThrowIfNullOrWhiteSpace(partition);
        ArgumentException.ThrowIfNullOrEmpty(bindingKey);
        lock (_sync)
        {
            var (partitions, keys) = _superStreams.TryGetValue(superStream, out var s)
                ? s
                : throw new StreamDoesNotExistException(superStream, $"Super stream '{superStream}' does not exist.");
            if (partitions.Contains(partition, StringComparer.Ordinal))
            {
                throw new ArgumentException($"'{partition}' is already a partition of super stream '{superStream}'.", nameof(partition));
            }

            if (!_streams.ContainsKey(partition))
            {
                _streams.Add(partition, new InMemoryStream(partition, null));
            }

            _superStreams[superStream] = ([.. partitions, partition], [.. keys, bindingKey]);
        }
    }

    /// <summary>Unbinds <paramref name="partition"/> from <paramref name="superStream"/> (the stream and its messages stay).</summary>
    public void RemovePartition(string superStream, string partition)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(superStream);
        ArgumentException.ThrowIfNullOrWhiteSpace(partition);
        lock (_sync)
        {
            var (partitions, keys) = _superStreams.TryGetValue(superStream, out var s)
                ? s
                : throw new StreamDoesNotExistException(superStream, $"Super stream '{superStream}' does not exist.");
            var index = Array.IndexOf(partitions, partition);
            if (index < 0)
            {
                throw new ArgumentException($"'{partition}' is not a partition of super stream '{superStream}'.", nameof(partition));
            }

            if (partitions.Length == 1)
            {
                throw new InvalidOperationException($"'{partition}' is the last partition of super stream '{superStream}'; a super stream keeps at least one.");
            }

            _superStreams[superStream] = ([.. partitions.Where((_, i) => i != index)], [.. keys.Where((_, i) => i != index)]);
        }
    }

    public bool StreamExists(string name)
    {
        lock (_sync)
        {
            return _streams.ContainsKey(name);
        }
    }

    /// <summary>The stream, or the broker's error for a missing one.</summary>
    public InMemoryStream GetStream(string name)
    {
        lock (_sync)
        {
            return _streams.TryGetValue(name, out var stream)
                ? stream
                : throw new StreamDoesNotExistException(name, $"Stream '{name}' does not exist.");
        }
    }

    /// <summary>The streams that exist now.</summary>
    public IReadOnlyList<string> Streams
    {
        get
        {
            lock (_sync)
            {
                return [.. _streams.Keys];
            }
        }
    }

    /// <summary>The partitions of a super stream, in order; empty when it does not exist.</summary>
    public IReadOnlyList<string> QueryPartitions(string superStream)
    {
        lock (_sync)
        {
            return _superStreams.TryGetValue(superStream, out var s) ? s.Partitions : [];
        }
    }

    /// <summary>The partitions bound with <paramref name="routingKey"/> (key routing); empty when none.</summary>
    public IReadOnlyList<string> QueryRoute(string routingKey, string superStream)
    {
        lock (_sync)
        {
            if (!_superStreams.TryGetValue(superStream, out var s))
            {
                return [];
            }

            return [.. s.Partitions.Where((_, i) => string.Equals(s.BindingKeys[i], routingKey, StringComparison.Ordinal))];
        }
    }

    /// <summary>
    /// Appends one chunk to <paramref name="stream"/>. With a producer <paramref name="reference"/> and publishing ids,
    /// a message whose id is not above the last one stored for that reference is dropped (confirmed, not stored), as
    /// the broker deduplicates. Returns the number of messages stored.
    /// </summary>
    public int Publish(string stream, IReadOnlyList<Message> messages, string? reference = null, IReadOnlyList<ulong>? publishingIds = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (publishingIds is not null && (reference is null || publishingIds.Count != messages.Count))
        {
            throw new ArgumentException("Publishing ids need a producer reference and one id per message.", nameof(publishingIds));
        }

        var target = GetStream(stream);
        var entries = new List<(byte[], string?)>(messages.Count);
        lock (_sync)
        {
            for (var i = 0; i < messages.Count; i++)
            {
                if (publishingIds is not null)
                {
                    var key = (stream, reference!);
                    if (_publishingIds.TryGetValue(key, out var last) && publishingIds[i] <= last)
                    {
                        continue;
                    }

                    _publishingIds[key] = publishingIds[i];
                }

                entries.Add((messages[i].ToArray(), StreamFilter.GetValue(messages[i])));
            }

            if (entries.Count > 0)
            {
                // The broker's chunk timestamps are milliseconds.
                var now = DateTimeOffset.FromUnixTimeMilliseconds(_time.GetUtcNow().ToUnixTimeMilliseconds());
                target.Append(entries, now);
            }
        }

        return entries.Count;
    }

    /// <summary>The last publishing id stored for <paramref name="reference"/> on <paramref name="stream"/> (0 when none, as the broker answers).</summary>
    public ulong QueryPublishingId(string stream, string reference)
    {
        lock (_sync)
        {
            return _publishingIds.TryGetValue((stream, reference), out var id) ? id : 0;
        }
    }

    /// <summary>Raised after an offset was stored.</summary>
    public event Action? OffsetStored;

    public void StoreOffset(string reference, string stream, ulong offset)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reference);
        var target = GetStream(stream);
        lock (_sync)
        {
            _offsets[(reference, stream)] = offset;

            // The broker writes a stored offset into the stream as a tracking chunk: the next message's offset is one further.
            target.AppendTracking(DateTimeOffset.FromUnixTimeMilliseconds(_time.GetUtcNow().ToUnixTimeMilliseconds()));
        }

        OffsetStored?.Invoke();
    }

    public ulong? QueryOffset(string reference, string stream)
    {
        GetStream(stream);
        lock (_sync)
        {
            return _offsets.TryGetValue((reference, stream), out var offset) ? offset : null;
        }
    }
}
