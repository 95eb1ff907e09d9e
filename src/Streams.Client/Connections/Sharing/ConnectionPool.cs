using Microsoft.Extensions.Logging;
using Streams.Client.Producers;

namespace Streams.Client.Connections.Sharing;

/// <summary>
/// The connections of one role (producers, or consumers) of a <see cref="StreamSystem"/>: each holds up to
/// <c>maxPerConnection</c> entities, each entity holding one lease (<see cref="StreamConnectionOperations"/>); a
/// connection closes when its last lease is released.
/// </summary>
/// <remarks>
/// A lease goes to an open connection to one of the wanted nodes (the leader for producers, the replicas or else the
/// leader for consumers) with room for one more entity and a free id; when there is none, a new connection is opened.
/// Openings for the same wanted nodes are serialized, so entities created (or recovering) together fill one connection
/// before the next is opened. A lost connection is never leased again: its entities release their leases as they recover.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
    Justification = "The SemaphoreSlims never allocate a wait handle (only WaitAsync is used), and recovering entities may still use the pool after the system is disposed.")]
internal sealed class ConnectionPool
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, SemaphoreSlim> _opening = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<Entry> _entries = [];
    private readonly ILogger _logger;
    private long _opened;

    public ConnectionPool(ConnectionRole role, int maxPerConnection, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerConnection, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxPerConnection, StreamSystemOptions.MaxEntitiesPerConnection);
        ArgumentNullException.ThrowIfNull(logger);
        Role = role;
        MaxPerConnection = maxPerConnection;
        _logger = logger;
    }

    public ConnectionRole Role { get; }

    public int MaxPerConnection { get; }

    /// <summary>Connections of this pool that are open now.</summary>
    public int OpenConnections
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count(e => e.Connection.IsOpen);
            }
        }
    }

    /// <summary>Connections this pool has opened since it was created.</summary>
    public long ConnectionsOpened => Interlocked.Read(ref _opened);

    /// <summary>Leases held now, over all connections.</summary>
    public int Leases
    {
        get
        {
            lock (_lock)
            {
                return _entries.Sum(e => e.Leases);
            }
        }
    }

    /// <summary>
    /// A lease on a connection to one of <paramref name="nodes"/>: an existing one with room, or one opened by
    /// <paramref name="open"/> (which must return a connection to one of <paramref name="nodes"/>).
    /// </summary>
    public async Task<StreamConnectionOperations> AcquireAsync(
        IReadOnlyList<StreamEndpoint> nodes, Func<CancellationToken, Task<StreamConnection>> open, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(open);
        if (MaxPerConnection == 1)
        {
            // One entity per connection: nothing to share, so openings need not wait for each other.
            return Add(await open(cancellationToken).ConfigureAwait(false));
        }

        if (TryLease(nodes) is { } lease)
        {
            return lease;
        }

        var gate = OpeningGate(nodes);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return TryLease(nodes) ?? Add(await open(cancellationToken).ConfigureAwait(false));
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// One opening at a time per set of wanted nodes: entities that want the same nodes wait for the connection being
    /// opened and share it, while an opening that hangs on an unreachable node holds up no entity that wants others.
    /// </summary>
    private SemaphoreSlim OpeningGate(IReadOnlyList<StreamEndpoint> nodes)
    {
        var key = string.Join(",", nodes.Select(n => n.ToString()).Order(StringComparer.OrdinalIgnoreCase));
        lock (_lock)
        {
            if (!_opening.TryGetValue(key, out var gate))
            {
                _opening[key] = gate = new SemaphoreSlim(1, 1);
            }

            return gate;
        }
    }

    private StreamConnectionOperations? TryLease(IReadOnlyList<StreamEndpoint> nodes)
    {
        lock (_lock)
        {
            foreach (var entry in _entries)
            {
                if (entry.Leases < MaxPerConnection && entry.Connection.IsOpen && HasFreeId(entry) && IsOnAny(entry.Connection, nodes))
                {
                    entry.Leases++;
                    return Lease(entry);
                }
            }
        }

        return null;
    }

    /// <summary>Ids in use are the leases' plus the retired ones; a lease always finds a free id to register.</summary>
    private bool HasFreeId(Entry entry)
    {
        int retired = Role == ConnectionRole.Producer ? entry.Connection.RetiredPublisherCount : entry.Connection.RetiredSubscriptionCount;
        return entry.Leases + retired < StreamSystemOptions.MaxEntitiesPerConnection;
    }

    private static bool IsOnAny(StreamConnection connection, IReadOnlyList<StreamEndpoint> nodes)
    {
        foreach (var node in nodes)
        {
            if (StreamSystem.IsNode(connection, node))
            {
                return true;
            }
        }

        return false;
    }

    private StreamConnectionOperations Add(StreamConnection connection)
    {
        var entry = new Entry(connection) { Leases = 1 };
        int open;
        lock (_lock)
        {
            _entries.Add(entry);
            open = _entries.Count(e => e.Connection.IsOpen);
        }

        Interlocked.Increment(ref _opened);
        SharingLog.Opened(_logger, Role, connection.Host, connection.Port, open, MaxPerConnection);
        return Lease(entry);
    }

    private StreamConnectionOperations Lease(Entry entry) => new(entry.Connection, () => ReleaseAsync(entry));

    private async ValueTask ReleaseAsync(Entry entry)
    {
        lock (_lock)
        {
            if (--entry.Leases > 0)
            {
                return;
            }

            _entries.Remove(entry);
        }

        if (entry.Connection.IsOpen)
        {
            SharingLog.LastLeaseReleased(_logger, Role, entry.Connection.Host, entry.Connection.Port);
        }

        await entry.Connection.DisposeAsync().ConfigureAwait(false);
    }

    private sealed class Entry(StreamConnection connection)
    {
        public StreamConnection Connection { get; } = connection;

        /// <summary>Guarded by the pool's lock.</summary>
        public int Leases { get; set; }
    }
}

/// <summary>Which entities a pooled connection carries: producers and consumers never share one.</summary>
internal enum ConnectionRole
{
    /// <summary>Producers (publisher ids), on the stream leader.</summary>
    Producer,

    /// <summary>Consumers (subscription ids), on a replica when there is one.</summary>
    Consumer,
}
