namespace Streams.Hosting;

/// <summary>
/// Steers the hosted consumers of this process at run time: pause, resume and rewind them by consumer name
/// (<see cref="StreamConsumerStatus.Name"/>), or pause and resume all of them. Singleton, registered by
/// <c>AddRabbitStreams</c>; safe to call from any thread.
/// </summary>
/// <remarks>
/// <para>
/// <b>Pause keeps the subscription.</b> A paused consumer finishes its in-flight handlers, stores the offset of the last
/// processed message and stops reading: the client stops granting credit once its buffer is full, so the broker
/// stops sending, and the messages already buffered are handled after <see cref="ResumeAsync"/>, in order, none lost
/// and none handled twice. Keeping the subscription is deliberate: with single-active-consumer, releasing it would let
/// a standby instance take over, so that the group would go on processing while the operator believes it paused.
/// A paused active member keeps the group quiet; to pause a whole group, pause every instance (a standby that is paused
/// stays silent when it is activated).
/// </para>
/// <para>
/// <b>Rewind rewrites the stored offset</b> on the broker (the offset of the last processed message, so the next message
/// handled is the target) and restarts the subscription from there; a paused consumer stays paused and resumes from the
/// new position. A target of offset 0 has no offset before it to store: the consumer restarts at 0 and its first commit
/// stores the new position. With single-active-consumer the stored offset belongs to the group: the rewound instance
/// writes it before releasing its subscription, so the member activated next reads it; an active instance on another
/// host notices at its next offset commit (after it handled a message, at most
/// <see cref="RabbitStreamsConsumerOptions.CommitInterval"/> later) that the stored offset went below what it stored or
/// past what it processed, and subscribes again from it; a standby reads it when it is activated.
/// </para>
/// <para>
/// A super stream consumer's name covers all its partitions: each call applies to every partition. Anonymous
/// consumers (without a name) cannot be steered.
/// </para>
/// </remarks>
public interface IStreamConsumerControl
{
    /// <summary>
    /// Pauses the consumer named <paramref name="consumer"/>: no new message is handed to its handler; completes when its
    /// in-flight handlers finished and the processed offset is stored. Pausing a paused consumer does nothing.
    /// </summary>
    /// <param name="consumer">The consumer name (<see cref="StreamConsumerStatus.Name"/>).</param>
    /// <param name="cancellationToken">Stops waiting (the consumer still pauses).</param>
    /// <exception cref="ArgumentException"><paramref name="consumer"/> is null or empty.</exception>
    /// <exception cref="StreamConsumerNotFoundException">No hosted consumer has that name.</exception>
    Task PauseAsync(string consumer, CancellationToken cancellationToken = default);

    /// <summary>
    /// Resumes the consumer named <paramref name="consumer"/> after the last processed message (also starts a consumer
    /// that was not started, see <see cref="StreamConsumerOptions.AutoStart"/>). Resuming a running consumer does nothing.
    /// </summary>
    /// <param name="consumer">The consumer name (<see cref="StreamConsumerStatus.Name"/>).</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <exception cref="ArgumentException"><paramref name="consumer"/> is null or empty.</exception>
    /// <exception cref="StreamConsumerNotFoundException">No hosted consumer has that name.</exception>
    Task ResumeAsync(string consumer, CancellationToken cancellationToken = default);

    /// <summary>
    /// Rewinds (or moves forward) the consumer named <paramref name="consumer"/>: stores the offset before
    /// <paramref name="target"/> on the broker and restarts the consumer's subscription from the target; completes when
    /// the offset is stored. A paused consumer stays paused.
    /// </summary>
    /// <param name="consumer">The consumer name (<see cref="StreamConsumerStatus.Name"/>).</param>
    /// <param name="target">Where to restart.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <exception cref="ArgumentException"><paramref name="consumer"/> is null or empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="target"/> is null.</exception>
    /// <exception cref="StreamConsumerNotFoundException">No hosted consumer has that name.</exception>
    Task RewindAsync(string consumer, StreamRewindTarget target, CancellationToken cancellationToken = default);

    /// <summary>Pauses every named hosted consumer (see <see cref="PauseAsync"/>).</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    Task PauseAllAsync(CancellationToken cancellationToken = default);

    /// <summary>Resumes every named hosted consumer (see <see cref="ResumeAsync"/>).</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    Task ResumeAllAsync(CancellationToken cancellationToken = default);
}
