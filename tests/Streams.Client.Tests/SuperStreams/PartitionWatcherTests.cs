using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Streams.Testing;

namespace Streams.Client.Tests.SuperStreams;

/// <summary>
/// SuperStreamPartitionWatcher on a fake clock and a scripted topology: what a refresh reports, and what happens when the
/// query or the change callback fails (the change is offered again on the next tick).
/// </summary>
public sealed class PartitionWatcherTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Each_tick_reports_added_and_removed_partitions_once()
    {
        var clock = new FakeTimeProvider();
        var topology = new ScriptedTopology(["s-0", "s-1"]);
        var changes = new ConcurrentQueue<SuperStreamPartitionsChangedEventArgs>();
        await using var watcher = new SuperStreamPartitionWatcher(topology, "s", ["s-0", "s-1"], Interval, (c, _) =>
        {
            changes.Enqueue(c);
            return Task.CompletedTask;
        }, clock);

        clock.Advance(Interval);
        await topology.WaitForQueriesAsync(1);
        Assert.Empty(changes);

        topology.Partitions = ["s-0", "s-2", "s-3"];
        clock.Advance(Interval);
        await topology.WaitForQueriesAsync(2);
        await WaitUntilAsync(() => !changes.IsEmpty);
        var change = Assert.Single(changes);
        Assert.Equal(["s-2", "s-3"], change.Added);
        Assert.Equal(["s-1"], change.Removed);
        Assert.Equal(["s-0", "s-2", "s-3"], watcher.Partitions);

        clock.Advance(Interval);
        await topology.WaitForQueriesAsync(3);
        Assert.Single(changes);

        // An empty answer (the super stream itself was deleted) is not a change.
        topology.Partitions = [];
        clock.Advance(Interval);
        await topology.WaitForQueriesAsync(4);
        Assert.Single(changes);
        Assert.Equal(["s-0", "s-2", "s-3"], watcher.Partitions);
    }

    [Fact]
    public async Task A_failed_query_or_callback_is_retried_on_the_next_tick()
    {
        var clock = new FakeTimeProvider();
        var topology = new ScriptedTopology(["s-0", "s-1"]) { Failure = new IOException("connection reset") };
        var attempts = 0;
        var applied = new TaskCompletionSource<SuperStreamPartitionsChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var watcher = new SuperStreamPartitionWatcher(topology, "s", ["s-0"], Interval, (c, _) =>
        {
            if (Interlocked.Increment(ref attempts) == 1)
            {
                throw new StreamClientException("subscribing to s-1 failed");
            }

            applied.TrySetResult(c);
            return Task.CompletedTask;
        }, clock);

        clock.Advance(Interval);
        await topology.WaitForQueriesAsync(1);
        Assert.Equal(0, Volatile.Read(ref attempts));

        topology.Failure = null;
        clock.Advance(Interval);
        await topology.WaitForQueriesAsync(2);
        await WaitUntilAsync(() => Volatile.Read(ref attempts) == 1);
        Assert.Equal(["s-0"], watcher.Partitions); // the failed change is not applied...

        clock.Advance(Interval);
        var change = await applied.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct); // ...and offered again
        Assert.Equal(["s-1"], change.Added);
        Assert.Equal(["s-0", "s-1"], watcher.Partitions);
    }

    [Fact]
    public async Task An_explicit_refresh_reports_the_change_and_propagates_a_failure_and_a_disposed_watcher_stops()
    {
        var clock = new FakeTimeProvider();
        var topology = new ScriptedTopology(["s-0", "s-1"]);
        var watcher = new SuperStreamPartitionWatcher(topology, "s", ["s-0"], Timeout.InfiniteTimeSpan, (_, _) => Task.CompletedTask, clock);
        Assert.True(await watcher.RefreshAsync(Ct));
        Assert.False(await watcher.RefreshAsync(Ct));

        topology.Failure = new IOException("connection reset");
        await Assert.ThrowsAsync<IOException>(() => watcher.RefreshAsync(Ct));

        await watcher.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => watcher.RefreshAsync(Ct));
        var queries = topology.Queries;
        clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(queries, topology.Queries);
    }

    private static Task WaitUntilAsync(Func<bool> condition) => Eventually.TrueAsync(condition);

    /// <summary>Answers the partition query with <see cref="Partitions"/> (or throws <see cref="Failure"/>), counting the queries.</summary>
    private sealed class ScriptedTopology(IReadOnlyList<string> partitions) : ISuperStreamTopology
    {
        private int _queries;

        public IReadOnlyList<string> Partitions { get; set; } = partitions;

        public Exception? Failure { get; set; }

        public int Queries => Volatile.Read(ref _queries);

        public Task<IReadOnlyList<string>> QueryPartitionsAsync(string superStream, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _queries);
            return Failure is { } failure ? Task.FromException<IReadOnlyList<string>>(failure) : Task.FromResult(Partitions);
        }

        public Task<IReadOnlyList<string>> QueryRouteAsync(string routingKey, string superStream, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("The watcher reads partitions only.");

        public Task WaitForQueriesAsync(int count) => WaitUntilAsync(() => Queries >= count);
    }
}
