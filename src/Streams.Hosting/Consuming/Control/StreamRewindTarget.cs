using System.Globalization;

namespace Streams.Hosting;

/// <summary>What a <see cref="StreamRewindTarget"/> points at.</summary>
public enum StreamRewindKind
{
    /// <summary>The first message still retained in the stream.</summary>
    First,

    /// <summary>The last chunk of the stream (the most recent messages).</summary>
    Last,

    /// <summary>An absolute offset.</summary>
    Offset,

    /// <summary>The first message stored at or after a point in time.</summary>
    Timestamp,
}

/// <summary>
/// Where <see cref="IStreamConsumerControl.RewindAsync"/> restarts a consumer: <see cref="First"/>, <see cref="Last"/>,
/// an <see cref="Offset(ulong)"/> or a <see cref="Timestamp(DateTimeOffset)"/>. <see cref="ToString"/> gives the form
/// <see cref="Parse"/> reads.
/// </summary>
public sealed record StreamRewindTarget
{
    private StreamRewindTarget(StreamRewindKind kind, ulong? offset, DateTimeOffset? timestamp)
    {
        Kind = kind;
        OffsetValue = offset;
        TimestampValue = timestamp;
    }

    /// <summary>The first message still retained in the stream.</summary>
    public static StreamRewindTarget First { get; } = new(StreamRewindKind.First, null, null);

    /// <summary>The last chunk of the stream.</summary>
    public static StreamRewindTarget Last { get; } = new(StreamRewindKind.Last, null, null);

    /// <summary>What the target points at.</summary>
    public StreamRewindKind Kind { get; }

    /// <summary>The offset (<see cref="StreamRewindKind.Offset"/> only).</summary>
    public ulong? OffsetValue { get; }

    /// <summary>The point in time (<see cref="StreamRewindKind.Timestamp"/> only).</summary>
    public DateTimeOffset? TimestampValue { get; }

    /// <summary>
    /// The message at <paramref name="offset"/> (an offset before the first retained message means the first one; one
    /// after the end means the next message published).
    /// </summary>
    /// <param name="offset">The offset of the next message to handle.</param>
    /// <returns>The target.</returns>
    public static StreamRewindTarget Offset(ulong offset) => new(StreamRewindKind.Offset, offset, null);

    /// <summary>
    /// The first message whose chunk was stored at or after <paramref name="timestamp"/> (millisecond precision, as the
    /// broker resolves it); later than the last message means the next message published.
    /// </summary>
    /// <param name="timestamp">The point in time.</param>
    /// <returns>The target.</returns>
    public static StreamRewindTarget Timestamp(DateTimeOffset timestamp) => new(StreamRewindKind.Timestamp, null, timestamp);

    /// <summary>
    /// Reads a target: <c>first</c>, <c>last</c>, <c>offset:123</c> (or just <c>123</c>) or
    /// <c>timestamp:2026-12-01T10:00:00Z</c> (ISO 8601; without an offset, UTC). Case-insensitive, surrounding spaces ignored.
    /// </summary>
    /// <param name="value">The text.</param>
    /// <returns>The target.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is null.</exception>
    /// <exception cref="FormatException"><paramref name="value"/> is not one of these forms (the message names it).</exception>
    public static StreamRewindTarget Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return TryParse(value, out var target)
            ? target
            : throw new FormatException(
                $"'{value}' is not a rewind target: expected 'first', 'last', 'offset:<number>' (or '<number>') or 'timestamp:<ISO 8601 date and time>', e.g. 'timestamp:2026-12-01T10:00:00Z'.");
    }

    /// <summary>Reads a target as <see cref="Parse"/> does; false when <paramref name="value"/> is not one.</summary>
    /// <param name="value">The text.</param>
    /// <param name="target">The target read, or null.</param>
    /// <returns>Whether <paramref name="value"/> is a target.</returns>
    public static bool TryParse(string? value, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out StreamRewindTarget? target)
    {
        target = null;
        var text = value?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        if (text.Equals("first", StringComparison.OrdinalIgnoreCase))
        {
            target = First;
        }
        else if (text.Equals("last", StringComparison.OrdinalIgnoreCase))
        {
            target = Last;
        }
        else if (TryParseOffset(StripPrefix(text, "offset:") ?? text, out var offset))
        {
            target = Offset(offset);
        }
        else if (StripPrefix(text, "timestamp:") is { } time
            && DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var timestamp))
        {
            target = Timestamp(timestamp);
        }

        return target is not null;
    }

    /// <summary>The text <see cref="Parse"/> reads: <c>first</c>, <c>last</c>, <c>offset:123</c> or <c>timestamp:2026-12-01T10:00:00.0000000+00:00</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Kind switch
    {
        StreamRewindKind.First => "first",
        StreamRewindKind.Last => "last",
        StreamRewindKind.Offset => "offset:" + OffsetValue!.Value.ToString(CultureInfo.InvariantCulture),
        _ => "timestamp:" + TimestampValue!.Value.ToString("O", CultureInfo.InvariantCulture),
    };

    private static string? StripPrefix(string text, string prefix) =>
        text.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) ? text[prefix.Length..].Trim() : null;

    private static bool TryParseOffset(string text, out ulong offset) =>
        ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out offset);
}
