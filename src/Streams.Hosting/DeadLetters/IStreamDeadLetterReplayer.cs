namespace Streams.Hosting;

/// <summary>
/// Sends dead letters back to their stream after the cause of their failure is fixed. Registered by
/// <c>AddRabbitStreams</c> (over the application's connection); <see cref="StreamDeadLetterReplayer"/> is the same over any
/// <see cref="Streams.Client.StreamSystem"/> (the <c>streams dlq replay</c> command uses it).
/// </summary>
/// <remarks>
/// <para>
/// Each dead letter in the range (<see cref="DeadLetterReplayOptions"/>) is sent to
/// <see cref="DeadLetterReplayOptions.TargetStream"/>, else to its <see cref="DeadLetterHeaders.OriginalStream"/>, as it
/// was dead-lettered: body, header, properties, annotations and application properties, minus the failure's
/// <see cref="DeadLetterHeaders.FailureHeaders"/>, plus <see cref="DeadLetterHeaders.ReplayCount"/> (one more than the dead
/// letter carried), <see cref="DeadLetterHeaders.ReplayedFromStream"/> and <see cref="DeadLetterHeaders.ReplayedFromOffset"/>.
/// A message that fails again is dead-lettered again with its replay count, and replayed again from its new offset.
/// </para>
/// <para>
/// Idempotent: each target is written by a deduplicating producer named
/// <see cref="StreamDeadLetterReplayer.ProducerName"/> (from the dead-letter stream and the target) with publishing id
/// dead-letter offset + 1, so a second run over the same range sends nothing the broker has not already confirmed,
/// even after a crash between send and confirm. The broker keeps the highest publishing id per producer name: a dead letter
/// before the last one replayed to the same target counts as already replayed, so replay in offset order.
/// </para>
/// </remarks>
public interface IStreamDeadLetterReplayer
{
    /// <summary>Replays the dead letters of <paramref name="deadLetterStream"/> that <paramref name="options"/> select.</summary>
    /// <param name="deadLetterStream">The dead-letter stream (e.g. <c>orders.dlq</c>).</param>
    /// <param name="options">The range, filter, target and mode; null: copy every dead letter to its original stream.</param>
    /// <param name="cancellationToken">Stops the replay; what was confirmed stays replayed (a next run skips it).</param>
    /// <returns>What was replayed, skipped and read.</returns>
    /// <exception cref="ArgumentException">An empty stream name or an invalid option (see <see cref="DeadLetterReplayOptions.Validate"/>).</exception>
    /// <exception cref="Streams.Client.StreamDoesNotExistException">The dead-letter stream or a target stream does not exist.</exception>
    /// <exception cref="DeadLetterReplayException">A dead letter cannot be replayed (not AMQP, or no target: no <c>x-original-stream</c> and no <see cref="DeadLetterReplayOptions.TargetStream"/>); those before it were replayed.</exception>
    /// <exception cref="Streams.Client.StreamClientException">The broker refused or failed (the client's typed exceptions).</exception>
    Task<DeadLetterReplayResult> ReplayAsync(string deadLetterStream, DeadLetterReplayOptions? options = null, CancellationToken cancellationToken = default);
}
