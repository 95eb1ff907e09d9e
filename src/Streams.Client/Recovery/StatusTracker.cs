using Microsoft.Extensions.Logging;

namespace Streams.Client.Recovery;

/// <summary>The status of a producer or consumer: thread-safe transitions, logged; terminal states are final.</summary>
internal sealed class StatusTracker(string kind, string stream, ILogger logger)
{
    private readonly Lock _lock = new();
    private StreamStatus _status = StreamStatus.Connected;

    public StreamStatus Status
    {
        get
        {
            lock (_lock)
            {
                return _status;
            }
        }
    }

    /// <summary>Moves to <paramref name="status"/>; returns the event to raise, or null when already terminal.</summary>
    public StreamStatusChangedEventArgs? Change(StreamStatus status, string reason, Exception? exception = null, int attempt = 0)
    {
        StreamStatus previous;
        lock (_lock)
        {
            previous = _status;
            if (previous is StreamStatus.Failed or StreamStatus.Closed)
            {
                return null;
            }

            _status = status;
        }

        if (status == StreamStatus.Failed)
        {
            RecoveryLog.Failed(logger, kind, stream, reason, exception);
        }
        else
        {
            RecoveryLog.StatusChanged(logger, kind, stream, previous, status, reason);
        }

        return new StreamStatusChangedEventArgs(stream, previous, status, reason, exception, attempt);
    }

    /// <summary>Invokes <paramref name="handler"/> with <paramref name="args"/>, logging (not propagating) its failures.</summary>
    public void Raise(object sender, EventHandler<StreamStatusChangedEventArgs>? handler, StreamStatusChangedEventArgs? args)
    {
        if (args is null || handler is null)
        {
            return;
        }

        try
        {
            handler(sender, args);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            RecoveryLog.StatusHandlerFailed(logger, stream, ex);
        }
    }
}
