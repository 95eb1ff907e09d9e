namespace Streams.Client;

/// <summary>Why a stream connection closed.</summary>
public enum ConnectionCloseKind
{
    /// <summary>The application closed it.</summary>
    Application,
    /// <summary>The broker sent a Close frame.</summary>
    Server,
    /// <summary>The socket failed or the peer went away without a Close.</summary>
    TransportFailure,
    /// <summary>No data arrived within the dead-peer timeout (by default two heartbeat intervals).</summary>
    HeartbeatTimeout,
    /// <summary>
    /// The broker broke the protocol: a frame the client cannot parse, or more chunks than a subscription's credit allows.
    /// The client closed the connection; <see cref="ConnectionClosedEventArgs.Exception"/> says what was wrong.
    /// </summary>
    ProtocolViolation,
}

/// <summary>Details of a closed connection.</summary>
public sealed class ConnectionClosedEventArgs : EventArgs
{
    /// <summary>Creates the details.</summary>
    public ConnectionClosedEventArgs(ConnectionCloseKind kind, string reason, ResponseCode? code = null, Exception? exception = null)
    {
        Kind = kind;
        Reason = reason;
        Code = code;
        Exception = exception;
    }

    /// <summary>Who or what closed the connection.</summary>
    public ConnectionCloseKind Kind { get; }

    /// <summary>A human-readable reason.</summary>
    public string Reason { get; }

    /// <summary>The Close code, when a Close frame was involved.</summary>
    public ResponseCode? Code { get; }

    /// <summary>The failure, for transport failures.</summary>
    public Exception? Exception { get; }

    /// <inheritdoc />
    public override string ToString() => Code is { } c ? $"{Kind}: {Reason} ({c})" : $"{Kind}: {Reason}";
}
