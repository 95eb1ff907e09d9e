namespace Streams.Client;

/// <summary>Settings of a <see cref="SuperStreamConsumer"/>: those of a <see cref="ConsumerOptions"/>, applied to every partition.</summary>
public sealed class SuperStreamConsumerOptions
{
    /// <summary>Creates options for a consumer of every partition of <paramref name="superStream"/>.</summary>
    /// <param name="superStream">The super stream name.</param>
    public SuperStreamConsumerOptions(string superStream)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(superStream);
        SuperStream = superStream;
    }

    /// <summary>The super stream.</summary>
    public string SuperStream { get; }

    /// <summary>Where each partition starts when no offset is stored for <see cref="Name"/> (default <see cref="OffsetSpecification.Next"/>).</summary>
    public OffsetSpecification Offset { get; set; } = OffsetSpecification.Next;

    /// <summary>
    /// The offset-tracking reference, used on every partition (offsets are stored per partition stream and reference),
    /// at most 255 UTF-8 bytes.
    /// </summary>
    public string? Name { get; set; }

    /// <summary>When <see cref="Name"/> has a stored offset on a partition, start that partition right after it (default true).</summary>
    public bool ResumeFromStoredOffset { get; set; } = true;

    /// <summary>Per-partition <see cref="ConsumerOptions.InitialCredits"/> (default 4).</summary>
    public ushort InitialCredits { get; set; } = 4;

    /// <summary>Validate each chunk's CRC-32 (default true).</summary>
    public bool CrcCheck { get; set; } = true;

    /// <summary>Per-partition <see cref="ConsumerOptions.MaxSubEntryUncompressedSize"/> (default 64 MiB).</summary>
    public int MaxSubEntryUncompressedSize { get; set; } = Consumers.ChunkReader.DefaultMaxUncompressedSize;

    /// <summary>
    /// The push-style handler. Messages of one partition arrive in offset order, one at a time; different partitions call
    /// it concurrently. <see cref="Delivery.Stream"/> names the partition. Leave null to read with
    /// <see cref="SuperStreamConsumer.ReadAllAsync"/>.
    /// </summary>
    public Func<Delivery, CancellationToken, ValueTask>? Handler { get; set; }

    /// <summary>Extra Subscribe properties sent for every partition.</summary>
    public IReadOnlyDictionary<string, string>? Properties { get; set; }

    /// <summary>
    /// How often the partition list is re-read so new partitions get a consumer without a restart, and the consumers of
    /// removed (unbound or deleted) ones are closed (default <see langword="null"/> = never). A new partition starts at
    /// its stored offset, else <see cref="Offset"/>. Offsets are stored by the application
    /// (<see cref="Delivery.StoreOffsetAsync"/>): store before a partition is removed to keep its position.
    /// </summary>
    public TimeSpan? PartitionRefreshInterval { get; set; }

    /// <summary>The clock for partition refreshes (default <see cref="TimeProvider.System"/>).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws an <see cref="ArgumentException"/> describing the first invalid setting.</summary>
    public void Validate()
    {
        if (PartitionRefreshInterval is { } interval && interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(PartitionRefreshInterval), interval, "SuperStreamConsumerOptions.PartitionRefreshInterval must be positive (or null to disable it).");
        }

        if (TimeProvider is null)
        {
            throw new ArgumentException("SuperStreamConsumerOptions.TimeProvider must not be null.", nameof(TimeProvider));
        }

        ConsumerOptionsFor(SuperStream, Handler ?? ((_, _) => ValueTask.CompletedTask)).Validate();
    }

    /// <summary>The options of the consumer of one partition.</summary>
    internal ConsumerOptions ConsumerOptionsFor(string partition, Func<Delivery, CancellationToken, ValueTask> handler) => new(partition)
    {
        Offset = Offset,
        Name = Name,
        ResumeFromStoredOffset = ResumeFromStoredOffset,
        InitialCredits = InitialCredits,
        CrcCheck = CrcCheck,
        MaxSubEntryUncompressedSize = MaxSubEntryUncompressedSize,
        Handler = handler,
        SingleActiveConsumer = SingleActiveConsumer,
        Properties = SingleActiveConsumer ? WithSuperStream(Properties, SuperStream) : Properties,
    };

    /// <summary>
    /// Single active consumer per partition across every consumer of the same <see cref="Name"/> (the group): the
    /// broker gives each partition to one member of the group (partition index modulo group size) and moves
    /// partitions when members join or leave. Needs a <see cref="Name"/>.
    /// </summary>
    public bool SingleActiveConsumer { get; set; }

    private static Dictionary<string, string> WithSuperStream(IReadOnlyDictionary<string, string>? properties, string superStream)
    {
        var result = properties is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(properties, StringComparer.Ordinal);
        result["super-stream"] = superStream;
        return result;
    }
}
