namespace Streams.Hosting.Internal.Pipeline;

/// <summary>What one consumer's status reports of its messages: handled and failed counts, and the last error.</summary>
internal sealed class ConsumerCounters(bool concurrent)
{
    private long _handled;
    private long _failed;
    private volatile Exception? _lastError;

    public long HandledCount => Interlocked.Read(ref _handled);

    public long FailedCount => Interlocked.Read(ref _failed);

    /// <summary>The last failure of a message or of the subscription.</summary>
    public Exception? LastError
    {
        get => _lastError;
        set => _lastError = value;
    }

    /// <summary>Counts handled messages: one writer (the read loop) unless lanes run handlers concurrently.</summary>
    public void Handled(int count)
    {
        if (concurrent)
        {
            Interlocked.Add(ref _handled, count);
        }
        else
        {
            Volatile.Write(ref _handled, _handled + count);
        }
    }

    public void Failed(int count, Exception error)
    {
        Interlocked.Add(ref _failed, count);
        _lastError = error;
    }
}
