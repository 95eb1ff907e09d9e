using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Streams.Hosting.Internal.Pipeline;
using Streams.Hosting.Testing.InMemory;

namespace Streams.Hosting.Tests.Pipeline;

/// <summary>The commit stage over the in-memory backend (no broker): every N messages, every T, only when it moved.</summary>
public sealed class OffsetCommitterTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly InMemoryBroker _broker;
    private readonly InMemoryStreamsBackend _backend;

    public OffsetCommitterTests()
    {
        _broker = new InMemoryBroker(_time);
        _broker.CreateStream("orders", null);
        _backend = new InMemoryStreamsBackend(_broker, Options.Create(new RabbitStreamsOptions()), _time);
    }

    [Fact]
    public async Task Stores_the_last_processed_offset_once_every_n_messages_and_only_when_it_moved()
    {
        using var committer = Committer("billing", commitEvery: 3);
        committer.MarkProcessed(0, 1);
        committer.MarkProcessed(1, 1);
        Assert.False(committer.IsDue);
        committer.MarkProcessed(4, 1);
        Assert.True(committer.IsDue);

        await committer.CommitAsync();
        Assert.Equal(4UL, _broker.QueryOffset("billing", "orders"));
        Assert.Equal((4L, 0L), (committer.LastStored, committer.Uncommitted));

        var entries = _broker.GetStream("orders").Count;
        await committer.CommitAsync(); // nothing moved: no store (no tracking chunk written)
        Assert.Equal(entries, _broker.GetStream("orders").Count);
    }

    [Fact]
    public async Task The_commit_interval_runs_on_the_hosts_time_provider()
    {
        using var committer = Committer("billing", commitEvery: 1_000, interval: TimeSpan.FromSeconds(5));
        using var timer = committer.StartTimer();
        committer.MarkProcessed(7, 1);

        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.Null(_broker.QueryOffset("billing", "orders"));
        _time.Advance(TimeSpan.FromSeconds(1));
        await WaitStoredAsync(7);
    }

    [Fact]
    public async Task An_anonymous_consumer_stores_nothing_and_a_failed_store_is_retried_by_the_next_commit()
    {
        using (var anonymous = Committer(null, commitEvery: 1))
        {
            anonymous.MarkProcessed(3, 1);
            Assert.Null(anonymous.StartTimer());
            await anonymous.CommitAsync();
            Assert.Equal(-1, anonymous.LastStored);
        }

        using var missing = new OffsetCommitter(_backend, "billing", "no-such-stream", 1, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(5), _time, NullLogger.Instance, null);
        missing.MarkProcessed(3, 1);
        await missing.CommitAsync(); // logged, never thrown
        Assert.Equal((-1L, 1L), (missing.LastStored, missing.Uncommitted));
    }

    [Fact]
    public void Lanes_move_the_processed_offset_to_the_watermark_only_forwards()
    {
        using var committer = Committer("billing", commitEvery: 10);
        committer.MarkProcessedConcurrently(5);
        committer.MarkProcessedConcurrently(-1); // nothing below the oldest unfinished: counted, offset unchanged
        committer.MarkProcessedConcurrently(3);
        Assert.Equal((5L, 3L), (committer.LastProcessed, committer.Uncommitted));
    }

    private OffsetCommitter Committer(string? name, int commitEvery, TimeSpan? interval = null) =>
        new(_backend, name, "orders", commitEvery, interval ?? TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(5), _time, NullLogger.Instance, null);

    private async Task WaitStoredAsync(ulong offset)
    {
        var stored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _broker.OffsetStored += () => stored.TrySetResult();
        if (_broker.QueryOffset("billing", "orders") != offset)
        {
            await stored.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        }

        Assert.Equal(offset, _broker.QueryOffset("billing", "orders"));
    }
}
