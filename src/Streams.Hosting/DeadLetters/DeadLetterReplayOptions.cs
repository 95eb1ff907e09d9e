using Streams.Client;

namespace Streams.Hosting;

/// <summary>What a dead-letter stream is on an append-only log after a replay.</summary>
public enum DeadLetterReplayMode
{
    /// <summary>
    /// Copy the dead letters back; the dead-letter stream keeps no record of it, so a later run without
    /// <see cref="DeadLetterReplayOptions.FromOffset"/> reads it from its first offset again (and sends again only what the
    /// target's deduplication has not seen: see <see cref="IStreamDeadLetterReplayer"/>).
    /// </summary>
    Copy,

    /// <summary>
    /// Copy the dead letters back and store the last offset handled on the dead-letter stream under
    /// <see cref="DeadLetterReplayOptions.GetTrackingName"/>: the messages count as moved (a log cannot delete them), a
    /// later run without <see cref="DeadLetterReplayOptions.FromOffset"/> starts after them, and <c>streams consumers</c>
    /// shows the dead letters not moved yet as that name's lag.
    /// </summary>
    Move,
}

/// <summary>Which dead letters <see cref="IStreamDeadLetterReplayer.ReplayAsync"/> sends back, and where.</summary>
public sealed class DeadLetterReplayOptions
{
    /// <summary>The consumer name under which <see cref="DeadLetterReplayMode.Move"/> stores its progress (with a filter: <c>{name}:{OriginalStream}</c>).</summary>
    public const string TrackingName = "streams-dlq-replay";

    /// <summary>
    /// The stream to send every replayed message to. Default null: each message goes back to its
    /// <see cref="DeadLetterHeaders.OriginalStream"/>.
    /// </summary>
    public string? TargetStream { get; set; }

    /// <summary>Only the dead letters whose <see cref="DeadLetterHeaders.OriginalStream"/> is this stream (the others are counted as filtered). Default null: all.</summary>
    public string? OriginalStream { get; set; }

    /// <summary>
    /// The first dead-letter offset to read. Default null: after the offset stored by the last
    /// <see cref="DeadLetterReplayMode.Move"/> (with <see cref="DeadLetterReplayMode.Move"/>), else the first offset.
    /// </summary>
    public ulong? FromOffset { get; set; }

    /// <summary>The last dead-letter offset to read (inclusive). Default null: the last message when the replay starts (later dead letters wait for the next run).</summary>
    public ulong? ToOffset { get; set; }

    /// <summary>At most this many dead letters are read (replayed, skipped or filtered). Default null: no limit.</summary>
    public long? MaxMessages { get; set; }

    /// <summary>Copy (default) or move; see <see cref="DeadLetterReplayMode"/>.</summary>
    public DeadLetterReplayMode Mode { get; set; } = DeadLetterReplayMode.Copy;

    /// <summary>Read and count what would be replayed, send nothing and store nothing.</summary>
    public bool DryRun { get; set; }

    /// <summary>How long to wait for the broker to deliver the dead-letter stream's last chunk when the replay finds its end. Default 10 s.</summary>
    public TimeSpan EndProbeTimeout { get; set; } = StreamEnd.DefaultProbeTimeout;

    /// <summary>The consumer name <see cref="DeadLetterReplayMode.Move"/> stores its progress under: <see cref="TrackingName"/>, or <c>{TrackingName}:{OriginalStream}</c> with a filter.</summary>
    public string GetTrackingName() => OriginalStream is null ? TrackingName : $"{TrackingName}:{OriginalStream}";

    /// <summary>Throws <see cref="ArgumentException"/> for a value out of range, naming the property.</summary>
    /// <exception cref="ArgumentException">An empty stream name, a range that ends before it starts, a non-positive count or timeout, or an unknown mode.</exception>
    public void Validate()
    {
        if (TargetStream is { Length: 0 })
        {
            throw new ArgumentException("DeadLetterReplayOptions.TargetStream must not be empty (null sends each message to its x-original-stream).", nameof(TargetStream));
        }

        if (OriginalStream is { Length: 0 })
        {
            throw new ArgumentException("DeadLetterReplayOptions.OriginalStream must not be empty (null replays every dead letter).", nameof(OriginalStream));
        }

        if (FromOffset is { } from && ToOffset is { } to && to < from)
        {
            throw new ArgumentException($"DeadLetterReplayOptions.ToOffset ({to}) is before FromOffset ({from}).", nameof(ToOffset));
        }

        if (MaxMessages is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxMessages), MaxMessages, "DeadLetterReplayOptions.MaxMessages must be at least 1 (null: no limit).");
        }

        if (EndProbeTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(EndProbeTimeout), EndProbeTimeout, "DeadLetterReplayOptions.EndProbeTimeout must be positive.");
        }

        if (!Enum.IsDefined(Mode))
        {
            throw new ArgumentOutOfRangeException(nameof(Mode), Mode, "DeadLetterReplayOptions.Mode is not a DeadLetterReplayMode.");
        }
    }
}
