namespace Streams.Hosting;

/// <summary>The state of a hosted consumer.</summary>
public enum StreamConsumerState
{
    /// <summary>Not subscribed yet.</summary>
    Starting,

    /// <summary>Subscribed and handling messages.</summary>
    Running,

    /// <summary>The subscription failed (connection lost, stream unavailable); subscribing again after a delay.</summary>
    Recovering,

    /// <summary>Stopped by its <see cref="FailureAction.Stop"/> policy or an unrecoverable error; see <see cref="StreamConsumerStatus.LastError"/>.</summary>
    Faulted,

    /// <summary>Stopped with the host.</summary>
    Stopped,

    /// <summary>
    /// The stream does not exist and the consumer waits for it to be created
    /// (<see cref="StreamConsumerOptions.WaitForStream"/>), checking with the recovery back-off.
    /// </summary>
    WaitingForStream,

    /// <summary>
    /// Paused by <see cref="IStreamConsumerControl"/>, or not started (<see cref="StreamConsumerOptions.AutoStart"/>
    /// off): no message is handed to the handler until it is resumed; <see cref="StreamConsumerStatus.StateReason"/> says
    /// why. Not a failure: the health check stays Healthy.
    /// </summary>
    Paused,
}

/// <summary>A snapshot of one hosted consumer.</summary>
/// <param name="HandlerType">The handler class.</param>
/// <param name="Stream">The stream (or super stream) consumed.</param>
/// <param name="Partition">The partition stream this subscription reads (super streams only).</param>
/// <param name="Name">The consumer name (null when anonymous).</param>
/// <param name="State">The current state.</param>
/// <param name="LastProcessedOffset">The offset of the last message handled successfully (or skipped / dead-lettered).</param>
/// <param name="LastStoredOffset">The last offset stored on the broker by this process.</param>
/// <param name="HandledCount">Messages handled successfully since start.</param>
/// <param name="FailedCount">Messages that exhausted their retries (skipped, dead-lettered or stopping the consumer).</param>
/// <param name="LastError">The error that made the consumer fault or recover, if any.</param>
/// <param name="IsActive">False while a single-active consumer waits as a standby (true otherwise, and when not subscribed).</param>
public sealed record StreamConsumerStatus(
    Type HandlerType,
    string Stream,
    string? Partition,
    string? Name,
    StreamConsumerState State,
    ulong? LastProcessedOffset,
    ulong? LastStoredOffset,
    long HandledCount,
    long FailedCount,
    Exception? LastError,
    bool IsActive = true)
{
    /// <summary>
    /// Messages read and dropped without calling the handler since start, because their filter value is not one of
    /// <see cref="StreamConsumerOptions.FilterValues"/> (broker filtering lets such messages through). Their offsets
    /// count as processed.
    /// </summary>
    public long FilteredCount { get; init; }

    /// <summary>
    /// Why the consumer is in its <see cref="State"/>, when there is more to say: for <see cref="StreamConsumerState.Paused"/>
    /// <c>"paused"</c> or <c>"not started"</c> (AutoStart off); null otherwise.
    /// </summary>
    public string? StateReason { get; init; }
}

/// <summary>The status of the hosted consumers (for health checks and status endpoints). Singleton.</summary>
public interface IStreamConsumerMonitor
{
    /// <summary>A snapshot of every hosted consumer.</summary>
    IReadOnlyList<StreamConsumerStatus> GetConsumers();
}
