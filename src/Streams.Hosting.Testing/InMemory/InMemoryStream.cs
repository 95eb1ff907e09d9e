using Streams.Client;

namespace Streams.Hosting.Testing.InMemory;

/// <summary>
/// One entry of an in-memory stream: its offset, chunk, timestamp, encoded bytes and filter value. A tracking entry
/// (<see cref="IsTracking"/>: a stored consumer offset, which the broker writes into the stream as a chunk of its own)
/// takes an offset but is never delivered.
/// </summary>
internal sealed record InMemoryEntry(ulong Offset, ulong ChunkId, DateTimeOffset Timestamp, byte[] Bytes, string? FilterValue, bool IsTracking = false);

/// <summary>
/// An in-memory stream: an append-only log of encoded entries (offsets from 0), each chunk written at once with
/// one timestamp; readers wait for the next append without polling.
/// </summary>
internal sealed class InMemoryStream
{
    private readonly List<InMemoryEntry> _entries = [];
    private TaskCompletionSource _appended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public InMemoryStream(string name, StreamSpec? spec)
    {
        Name = name;
        Spec = spec?.ToString() ?? new StreamSpec().ToString();
    }

    public string Name { get; }

    /// <summary>The arguments it was created with (as text, to compare declarations).</summary>
    public string Spec { get; }

    public int Count
    {
        get
        {
            lock (_entries)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>The id of the last chunk (null when empty).</summary>
    public ulong? LastChunkId
    {
        get
        {
            lock (_entries)
            {
                return _entries.Count == 0 ? null : _entries[^1].ChunkId;
            }
        }
    }

    /// <summary>Appends one chunk of entries written at <paramref name="timestamp"/>; returns the first offset.</summary>
    public ulong Append(IReadOnlyList<(byte[] Bytes, string? FilterValue)> entries, DateTimeOffset timestamp)
    {
        TaskCompletionSource appended;
        ulong first;
        lock (_entries)
        {
            first = (ulong)_entries.Count;
            foreach (var (bytes, filterValue) in entries)
            {
                _entries.Add(new InMemoryEntry((ulong)_entries.Count, first, timestamp, bytes, filterValue));
            }

            appended = _appended;
            _appended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        appended.TrySetResult();
        return first;
    }

    /// <summary>Writes a tracking chunk (a stored offset), as the broker does: it takes one offset and is not delivered.</summary>
    public void AppendTracking(DateTimeOffset timestamp)
    {
        lock (_entries)
        {
            _entries.Add(new InMemoryEntry((ulong)_entries.Count, (ulong)_entries.Count, timestamp, [], null, IsTracking: true));
        }
    }

    /// <summary>The entry at <paramref name="offset"/>, or the task that completes on the next append.</summary>
    public InMemoryEntry? TryRead(ulong offset, out Task appended)
    {
        lock (_entries)
        {
            appended = _appended.Task;
            return offset < (ulong)_entries.Count ? _entries[(int)offset] : null;
        }
    }

    /// <summary>A copy of the entries.</summary>
    public IReadOnlyList<InMemoryEntry> Snapshot()
    {
        lock (_entries)
        {
            return [.. _entries.Where(e => !e.IsTracking)];
        }
    }

    /// <summary>Where a subscription starts: the offset of the first entry it reads.</summary>
    public ulong Resolve(OffsetSpecification offset)
    {
        lock (_entries)
        {
            var end = (ulong)_entries.Count;
            return offset.Type switch
            {
                OffsetType.First => 0,
                // The last chunk of messages, as the broker resolves it (a tracking chunk written after it is not one).
                OffsetType.Last => _entries.FindLast(e => !e.IsTracking) is { } last ? last.ChunkId : end,
                OffsetType.Offset => Math.Min(offset.OffsetValue, end),
                OffsetType.Timestamp => _entries.FindIndex(e => e.Timestamp.ToUnixTimeMilliseconds() >= offset.Value) is var index and >= 0 ? (ulong)index : end,
                _ => end, // Next (and None): only what is written from now on.
            };
        }
    }
}
