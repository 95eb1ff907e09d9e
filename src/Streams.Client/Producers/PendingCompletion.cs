namespace Streams.Client.Producers;

/// <summary>Completes when <c>count</c> messages are confirmed, or fails on the first failed one.</summary>
internal sealed class PendingCompletion : TaskCompletionSource
{
    private readonly TimeSpan _confirmTimeout;
    private int _remaining;

    public PendingCompletion(int count, TimeSpan confirmTimeout)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        _remaining = count;
        _confirmTimeout = confirmTimeout;
    }

    public void Complete(in Confirmation confirmation)
    {
        if (confirmation.IsConfirmed)
        {
            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                TrySetResult();
            }
        }
        else
        {
            TrySetException(confirmation.ToException(_confirmTimeout)!);
        }
    }
}
