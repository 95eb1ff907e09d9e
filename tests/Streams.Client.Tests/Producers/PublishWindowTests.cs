using Streams.Client.Producers;

namespace Streams.Client.Tests.Producers;

public sealed class PublishWindowTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Takes_until_empty_then_waits_for_the_threshold()
    {
        var window = new PublishWindow(capacity: 4, wakeThreshold: 2);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(window.TryTake());
        }

        Assert.False(window.TryTake());
        var waiting = window.TakeAsync(Ct).AsTask();
        window.Release(1);
        await Task.Delay(20, Ct);
        Assert.False(waiting.IsCompleted); // 1 free < threshold 2
        window.Release(1);
        await waiting.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.Equal(1, window.Available);
    }

    [Fact]
    public async Task Waiters_are_served_in_order_and_block_barging()
    {
        var window = new PublishWindow(capacity: 1, wakeThreshold: 1);
        Assert.True(window.TryTake());
        var first = window.TakeAsync(Ct).AsTask();
        var second = window.TakeAsync(Ct).AsTask();
        Assert.False(window.TryTake());
        window.Release(1);
        await first.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.False(second.IsCompleted);
        window.Release(1);
        await second.WaitAsync(TimeSpan.FromSeconds(5), Ct);
    }

    [Fact]
    public async Task Cancelled_waiters_are_skipped()
    {
        var window = new PublishWindow(capacity: 1, wakeThreshold: 1);
        Assert.True(window.TryTake());
        using var cts = new CancellationTokenSource();
        var cancelled = window.TakeAsync(cts.Token).AsTask();
        var next = window.TakeAsync(Ct).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        window.Release(1);
        await next.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.Equal(0, window.Available);
    }

    [Fact]
    public async Task Open_releases_everyone()
    {
        var window = new PublishWindow(capacity: 1, wakeThreshold: 1);
        Assert.True(window.TryTake());
        var waiters = Enumerable.Range(0, 3).Select(_ => window.TakeAsync(Ct).AsTask()).ToArray();
        window.Open();
        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.True(window.TryTake());
    }

    [Fact]
    public async Task Concurrent_takers_never_exceed_capacity()
    {
        var window = new PublishWindow(capacity: 8, wakeThreshold: 3);
        int inFlight = 0;
        int max = 0;
        var workers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < 2_000; i++)
            {
                await window.TakeAsync(Ct);
                int now = Interlocked.Increment(ref inFlight);
                int seen;
                while ((seen = Volatile.Read(ref max)) < now && Interlocked.CompareExchange(ref max, now, seen) != seen)
                {
                }

                await Task.Yield();
                Interlocked.Decrement(ref inFlight);
                window.Release(1);
            }
        }, Ct)).ToArray();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60), Ct);
        Assert.InRange(max, 1, 8);
        Assert.Equal(8, window.Available);
    }
}
