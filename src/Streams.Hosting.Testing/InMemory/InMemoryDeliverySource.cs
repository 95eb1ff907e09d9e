using System.Runtime.CompilerServices;
using Streams.Client;
using Streams.Hosting.Internal.Backend;

namespace Streams.Hosting.Testing.InMemory;

/// <summary>
/// A subscription to an <see cref="InMemoryStream"/> from <c>start</c>: entries in offset order, waiting (signalled, not
/// polled) for the next append. Filter values are applied exactly (the broker's Bloom filter may let others through;
/// the pipeline re-checks either way).
/// </summary>
internal sealed class InMemoryDeliverySource : IDeliverySource
{
    private readonly InMemoryStream _stream;
    private readonly ulong _start;
    private readonly IReadOnlyList<string>? _filterValues;
    private readonly bool _matchUnfiltered;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _disposed = new();

    public InMemoryDeliverySource(InMemoryStream stream, ulong start, IReadOnlyList<string>? filterValues, bool matchUnfiltered)
    {
        _stream = stream;
        _start = start;
        _filterValues = filterValues is { Count: > 0 } ? filterValues : null;
        _matchUnfiltered = matchUnfiltered;
    }

    public bool IsActive => true;

    public Task Completion => _completion.Task;

#pragma warning disable CS0067 // An in-memory subscription never loses its connection.
    public event EventHandler<StreamStatusChangedEventArgs>? StatusChanged;
#pragma warning restore CS0067

    public async IAsyncEnumerable<StreamDelivery> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token);
        var next = _start;
        while (true)
        {
            var entry = _stream.TryRead(next, out var appended);
            if (entry is null)
            {
                await appended.WaitAsync(linked.Token).ConfigureAwait(false);
                continue;
            }

            next++;
            if (Passes(entry))
            {
                yield return new StreamDelivery(entry.Offset, entry.ChunkId, entry.Timestamp, entry.Bytes);
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        if (!_disposed.IsCancellationRequested)
        {
            _disposed.Cancel();
            _completion.TrySetResult();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The in-memory broker stores nothing when a subscription ends: the same as <see cref="DisposeAsync"/>.</summary>
    public ValueTask DisposeWithoutStoringOffsetAsync() => DisposeAsync();

    private bool Passes(InMemoryEntry entry) =>
        !entry.IsTracking && (_filterValues is not { } filters
        || (entry.FilterValue is { } value ? filters.Contains(value, StringComparer.Ordinal) : _matchUnfiltered));
}
