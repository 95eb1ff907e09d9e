namespace Streams.Hosting;

/// <summary>What the host does when the broker cannot be reached while it starts (<see cref="RabbitStreamsOptions.StartBehavior"/>).</summary>
public enum RabbitStreamsStartBehavior
{
    /// <summary>
    /// The default. The start makes one connection attempt: when it succeeds, the declared streams are created and the
    /// super stream partitions discovered during the start (a conflicting declaration fails it, as before); when the
    /// broker is not reachable (refused, timed out, name not resolved) the host starts anyway and connects in the
    /// background with the <see cref="RabbitStreamsOptions.Recovery"/> back-off, then declares the streams and starts
    /// the consumers. Meanwhile the health check is Unhealthy ("connecting …", with the last error) and
    /// <see cref="IStreamPublisher.PublishAsync{T}(string, T, PublishOptions?, CancellationToken)"/> waits up to
    /// <see cref="RabbitStreamsPublishingOptions.Timeout"/>, then throws <see cref="StreamPublishException"/> saying the
    /// broker is not reachable. A configuration error that retrying cannot fix (authentication refused, virtual host
    /// access refused, TLS certificate or name mismatch) still fails the start when it is the first attempt's answer;
    /// when it only shows once the broker is back, the connection faults for good: an error is logged and the health
    /// check stays Unhealthy with the reason until the application is fixed and restarted.
    /// </summary>
    ConnectInBackground,

    /// <summary>The start fails when the first connection attempt fails, naming the endpoints tried (the behaviour before the background connect).</summary>
    FailFast,
}
