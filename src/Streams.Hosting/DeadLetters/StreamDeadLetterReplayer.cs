using System.Security.Cryptography;
using System.Text;
using Streams.Client;
using Streams.Hosting.DeadLetters;

namespace Streams.Hosting;

/// <summary>
/// <see cref="IStreamDeadLetterReplayer"/> over a <see cref="StreamSystem"/> the caller owns (a tool, a script, the
/// <c>streams</c> CLI). Each replay opens its own consumer on the dead-letter stream and one deduplicating producer per
/// target, and closes them before it returns.
/// </summary>
public sealed class StreamDeadLetterReplayer : IStreamDeadLetterReplayer
{
    /// <summary>How many dead letters may wait for their confirm at once.</summary>
    private const int MaxUnconfirmed = 1_000;

    private readonly StreamSystem _system;

    /// <summary>Replays over <paramref name="system"/> (not disposed by the replayer).</summary>
    /// <param name="system">The connected system.</param>
    /// <exception cref="ArgumentNullException"><paramref name="system"/> is null.</exception>
    public StreamDeadLetterReplayer(StreamSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        _system = system;
    }

    /// <summary>
    /// The deduplicating producer name a replay from <paramref name="deadLetterStream"/> to <paramref name="targetStream"/>
    /// publishes with: <c>streams-dlq-replay:{deadLetterStream}:{targetStream}</c>, shortened with a hash of both names
    /// when longer than the protocol's 255 bytes. Its sequence (<c>streams sequence</c>) is the last dead-letter offset + 1
    /// replayed to that target.
    /// </summary>
    /// <param name="deadLetterStream">The dead-letter stream.</param>
    /// <param name="targetStream">The stream replayed to.</param>
    public static string ProducerName(string deadLetterStream, string targetStream)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterStream);
        ArgumentException.ThrowIfNullOrEmpty(targetStream);
        var name = $"{DeadLetterReplayOptions.TrackingName}:{deadLetterStream}:{targetStream}";
        if (Encoding.UTF8.GetByteCount(name) <= 255)
        {
            return name;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{deadLetterStream}\n{targetStream}")));
        return $"{DeadLetterReplayOptions.TrackingName}:{hash}";
    }

    /// <inheritdoc />
    public async Task<DeadLetterReplayResult> ReplayAsync(string deadLetterStream, DeadLetterReplayOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterStream);
        options ??= new DeadLetterReplayOptions();
        options.Validate();
        if (!await _system.StreamExistsAsync(deadLetterStream, cancellationToken).ConfigureAwait(false))
        {
            throw new StreamDoesNotExistException(deadLetterStream, $"The dead-letter stream {deadLetterStream} does not exist.");
        }

        var run = new DeadLetterReplayRun(_system, deadLetterStream, options, MaxUnconfirmed);
        await using var disposeRun = run.ConfigureAwait(false);
        if (options.TargetStream is { } target)
        {
            // A missing target fails before anything is read.
            await run.TargetAsync(target, cancellationToken).ConfigureAwait(false);
        }

        var range = await ResolveRangeAsync(deadLetterStream, options, cancellationToken).ConfigureAwait(false);
        if (range is { } r)
        {
            try
            {
                await run.ReadAsync(r.From, r.To, cancellationToken).ConfigureAwait(false);
            }
            catch (DeadLetterReplayException)
            {
                // What was sent before the dead letter that cannot be replayed counts as replayed: wait for its confirms.
                await run.DrainAsync(cancellationToken).ConfigureAwait(false);
                throw;
            }
        }

        return await run.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The offsets to read, null when there is nothing: the start (explicit, after the moved ones, or the first) to the end as of now.</summary>
    private async Task<(ulong From, ulong To)?> ResolveRangeAsync(string deadLetterStream, DeadLetterReplayOptions options, CancellationToken cancellationToken)
    {
        var end = await StreamEnd.ProbeAsync(_system, deadLetterStream, options.EndProbeTimeout, cancellationToken).ConfigureAwait(false);
        if (end is null)
        {
            return null;
        }

        var from = options.FromOffset ?? 0;
        if (options.FromOffset is null && options.Mode == DeadLetterReplayMode.Move
            && await _system.QueryOffsetAsync(options.GetTrackingName(), deadLetterStream, cancellationToken).ConfigureAwait(false) is { } moved)
        {
            from = moved + 1;
        }

        var to = Math.Min(end.LastOffset, options.ToOffset ?? ulong.MaxValue);
        return from > to ? null : (from, to);
    }
}
