namespace Streams.Hosting.Tests.Consuming;

public sealed class FailurePolicyTests
{
    [Fact]
    public void Default_is_three_exponential_retries_then_dead_letter()
    {
        var policy = new HandlerFailurePolicy();
        Assert.Equal(3, policy.MaxRetries);
        Assert.Equal(FailureAction.DeadLetter, policy.AfterRetries);
        Assert.Equal([200, 400, 800], Enumerable.Range(1, 3).Select(i => policy.GetRetryDelay(i).TotalMilliseconds));
        Assert.Equal("orders.dlq", policy.GetDeadLetterStream("orders"));
    }

    [Fact]
    public void Back_off_kinds_and_cap()
    {
        var policy = new HandlerFailurePolicy { RetryDelay = TimeSpan.FromSeconds(1), MaxRetryDelay = TimeSpan.FromSeconds(3), Backoff = RetryBackoff.Linear };
        Assert.Equal([1, 2, 3, 3], Enumerable.Range(1, 4).Select(i => policy.GetRetryDelay(i).TotalSeconds));
        policy.Backoff = RetryBackoff.Constant;
        Assert.Equal([1, 1], Enumerable.Range(1, 2).Select(i => policy.GetRetryDelay(i).TotalSeconds));
        policy.Backoff = RetryBackoff.Exponential;
        Assert.Equal(TimeSpan.FromSeconds(3), policy.GetRetryDelay(1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => policy.GetRetryDelay(0));
    }

    [Fact]
    public void Dead_letter_stream_template()
    {
        var policy = new HandlerFailurePolicy { DeadLetterStream = "errors-{stream}" };
        Assert.Equal("errors-orders", policy.GetDeadLetterStream("orders"));
        policy.DeadLetterStream = "all-errors";
        Assert.Equal("all-errors", policy.GetDeadLetterStream("orders"));
        Assert.Contains("DeadLetter to 'all-errors'", policy.ToString(), StringComparison.Ordinal);
    }
}
