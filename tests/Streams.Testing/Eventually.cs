using Xunit;

namespace Streams.Testing;

/// <summary>Waits for a condition that other threads make true (a hang guard, never a timing assertion).</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> every 10 ms until it holds; fails naming <paramref name="what"/> after <paramref name="timeout"/> (default 30 s).</summary>
    public static Task TrueAsync(Func<bool> condition, string what = "the condition", TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return TrueAsync(() => Task.FromResult(condition()), what, timeout);
    }

    /// <summary>As <see cref="TrueAsync(Func{bool}, string, TimeSpan?)"/> for a condition that asks the broker: awaited, not blocking a pool thread.</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, string what = "the condition", TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        var deadline = DateTime.UtcNow + limit;
        while (!await condition().ConfigureAwait(false))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {limit.TotalSeconds:0} s waiting for {what}.");
            }

            await Task.Delay(10, TestContext.Current.CancellationToken).ConfigureAwait(false);
        }
    }
}
