namespace Streams.Client;

/// <summary>The lifecycle state of a <see cref="Producer"/> or <see cref="Consumer"/>.</summary>
public enum StreamStatus
{
    /// <summary>Connected and working (the initial state).</summary>
    Connected,
    /// <summary>The connection was lost or the stream moved; reconnecting with back-off.</summary>
    Reconnecting,
    /// <summary>Reconnected: the producer re-declared itself (and re-sent unconfirmed messages), the consumer re-subscribed.</summary>
    Recovered,
    /// <summary>Ended by a failure: the stream was deleted, recovery gave up, or recovery is disabled.</summary>
    Failed,
    /// <summary>Closed by the application (disposed).</summary>
    Closed,
}

/// <summary>A status change of a <see cref="Producer"/> or <see cref="Consumer"/>.</summary>
public sealed class StreamStatusChangedEventArgs : EventArgs
{
    /// <summary>Creates the details.</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="previous">The previous status.</param>
    /// <param name="status">The new status.</param>
    /// <param name="reason">Why the status changed.</param>
    /// <param name="exception">The failure behind the change, if any.</param>
    /// <param name="attempt">The reconnection attempt (1-based) for <see cref="StreamStatus.Reconnecting"/> and <see cref="StreamStatus.Recovered"/>, else 0.</param>
    public StreamStatusChangedEventArgs(string stream, StreamStatus previous, StreamStatus status, string reason, Exception? exception = null, int attempt = 0)
    {
        Stream = stream;
        Previous = previous;
        Status = status;
        Reason = reason;
        Exception = exception;
        Attempt = attempt;
    }

    /// <summary>The stream.</summary>
    public string Stream { get; }

    /// <summary>The previous status.</summary>
    public StreamStatus Previous { get; }

    /// <summary>The new status.</summary>
    public StreamStatus Status { get; }

    /// <summary>Why the status changed.</summary>
    public string Reason { get; }

    /// <summary>The failure behind the change, if any.</summary>
    public Exception? Exception { get; }

    /// <summary>The reconnection attempt (1-based), or 0.</summary>
    public int Attempt { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Stream}: {Previous} -> {Status} ({Reason})";
}
