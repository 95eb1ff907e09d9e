namespace Streams.Client;

/// <summary>The kind of an <see cref="OffsetSpecification"/> (wire values of the protocol).</summary>
public enum OffsetType : ushort
{
    /// <summary>No change (only valid in a ConsumerUpdate answer: keep the Subscribe specification).</summary>
    None = 0,
    /// <summary>The first message still retained in the stream.</summary>
    First = 1,
    /// <summary>The last chunk written to the stream.</summary>
    Last = 2,
    /// <summary>Only messages written after subscribing.</summary>
    Next = 3,
    /// <summary>A specific offset.</summary>
    Offset = 4,
    /// <summary>The first chunk written at or after a point in time.</summary>
    Timestamp = 5,
}

/// <summary>Where a consumer starts reading a stream.</summary>
public readonly record struct OffsetSpecification
{
    private OffsetSpecification(OffsetType type, long value)
    {
        Type = type;
        Value = value;
    }

    /// <summary>The kind of specification.</summary>
    public OffsetType Type { get; }

    /// <summary>The offset (for <see cref="OffsetType.Offset"/>, as an unsigned value) or the Unix time in ms (for <see cref="OffsetType.Timestamp"/>).</summary>
    public long Value { get; }

    /// <summary>The first message still retained.</summary>
    public static OffsetSpecification First { get; } = new(OffsetType.First, 0);

    /// <summary>The last chunk of the stream.</summary>
    public static OffsetSpecification Last { get; } = new(OffsetType.Last, 0);

    /// <summary>Only messages written after subscribing.</summary>
    public static OffsetSpecification Next { get; } = new(OffsetType.Next, 0);

    /// <summary>Keep the current specification (ConsumerUpdate answers only).</summary>
    public static OffsetSpecification None { get; } = new(OffsetType.None, 0);

    /// <summary>Start at a given offset.</summary>
    /// <param name="offset">The offset of the first message wanted.</param>
    public static OffsetSpecification Offset(ulong offset) => new(OffsetType.Offset, unchecked((long)offset));

    /// <summary>Start at the first chunk written at or after <paramref name="timestamp"/>.</summary>
    /// <param name="timestamp">The point in time.</param>
    public static OffsetSpecification Timestamp(DateTimeOffset timestamp) => new(OffsetType.Timestamp, timestamp.ToUnixTimeMilliseconds());

    /// <summary>The offset value for <see cref="OffsetType.Offset"/>.</summary>
    public ulong OffsetValue => unchecked((ulong)Value);

    /// <inheritdoc />
    public override string ToString() => Type switch
    {
        OffsetType.Offset => $"offset {OffsetValue}",
        OffsetType.Timestamp => $"timestamp {DateTimeOffset.FromUnixTimeMilliseconds(Value):O}",
        _ => Type.ToString().ToLowerInvariant(),
    };
}
