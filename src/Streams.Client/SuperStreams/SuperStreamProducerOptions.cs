namespace Streams.Client;

/// <summary>How a <see cref="SuperStreamProducer"/> picks the partition of a message.</summary>
public enum SuperStreamRoutingStrategy
{
    /// <summary>
    /// MurmurHash3 x86 32-bit of the UTF-8 routing key with seed 104729, partition = hash modulo the partition count
    /// (unsigned) — the same choice as the Java and .NET stream clients. No broker round trip.
    /// </summary>
    Hash,

    /// <summary>
    /// The partitions bound to the routing key in the super stream's exchange (the Route command, cached per key).
    /// A key without a binding fails with <see cref="SuperStreamRoutingException"/>.
    /// </summary>
    Key,
}

/// <summary>Settings of a <see cref="SuperStreamProducer"/>.</summary>
public sealed class SuperStreamProducerOptions
{
    /// <summary>Creates options for a producer publishing to the partitions of <paramref name="superStream"/>.</summary>
    /// <param name="superStream">The super stream name.</param>
    /// <param name="routingKeyExtractor">Computes each message's routing key (e.g. from a property).</param>
    public SuperStreamProducerOptions(string superStream, Func<Message, string> routingKeyExtractor)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(superStream);
        ArgumentNullException.ThrowIfNull(routingKeyExtractor);
        SuperStream = superStream;
        RoutingKeyExtractor = routingKeyExtractor;
    }

    /// <summary>The super stream.</summary>
    public string SuperStream { get; }

    /// <summary>Computes each message's routing key.</summary>
    public Func<Message, string> RoutingKeyExtractor { get; }

    /// <summary>How the partition is chosen (default <see cref="SuperStreamRoutingStrategy.Hash"/>).</summary>
    public SuperStreamRoutingStrategy RoutingStrategy { get; set; } = SuperStreamRoutingStrategy.Hash;

    /// <summary>
    /// The publisher reference used on every partition (at most 255 UTF-8 bytes; deduplication is per stream and
    /// reference, so each partition keeps its own publishing-id sequence). Null = no deduplication.
    /// </summary>
    public string? Name { get; set; }

    /// <summary>Per-partition <see cref="ProducerOptions.MaxUnconfirmed"/> (default 10,000).</summary>
    public int MaxUnconfirmed { get; set; } = 10_000;

    /// <summary>Per-partition <see cref="ProducerOptions.BatchSize"/> (default 100).</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>Per-partition <see cref="ProducerOptions.ConfirmTimeout"/> (default 30 s).</summary>
    public TimeSpan ConfirmTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Per-partition <see cref="ProducerOptions.DrainTimeout"/> (default 10 s).</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Per-partition <see cref="ProducerOptions.FilterValue"/> (default none).</summary>
    public Func<Message, string?>? FilterValue { get; set; }

    /// <summary>Per-partition <see cref="ProducerOptions.SubEntrySize"/> (default 1: no sub-entry batches).</summary>
    public int SubEntrySize { get; set; } = 1;

    /// <summary>Per-partition <see cref="ProducerOptions.Compression"/> of the sub-entry batches (default none).</summary>
    public CompressionType Compression { get; set; } = CompressionType.None;

    /// <summary>
    /// How often the partition list is re-read so partitions added to the super stream are used without a restart, and
    /// removed ones no longer (their producers are closed) (default <see langword="null"/> = never; the list is read once at creation).
    /// </summary>
    public TimeSpan? PartitionRefreshInterval { get; set; }

    /// <summary>The clock for confirm timeouts and partition refreshes (default <see cref="TimeProvider.System"/>).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws an <see cref="ArgumentException"/> describing the first invalid setting.</summary>
    public void Validate()
    {
        RouterOptions().Validate();
        ProducerOptionsFor(SuperStream).Validate();
    }

    /// <summary>The options of the router of the producer.</summary>
    internal SuperStreamRouterOptions RouterOptions() => new(SuperStream)
    {
        RoutingStrategy = RoutingStrategy,
        PartitionRefreshInterval = PartitionRefreshInterval,
        TimeProvider = TimeProvider,
    };

    /// <summary>The options of the producer of one partition.</summary>
    internal ProducerOptions ProducerOptionsFor(string partition) => new(partition)
    {
        Name = Name,
        MaxUnconfirmed = MaxUnconfirmed,
        BatchSize = BatchSize,
        ConfirmTimeout = ConfirmTimeout,
        DrainTimeout = DrainTimeout,
        FilterValue = FilterValue,
        SubEntrySize = SubEntrySize,
        Compression = Compression,
        TimeProvider = TimeProvider,
    };
}

/// <summary>A message could not be routed to any partition of a super stream.</summary>
public sealed class SuperStreamRoutingException : StreamClientException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="superStream">The super stream.</param>
    /// <param name="routingKey">The routing key (null when the extractor returned none).</param>
    /// <param name="message">What went wrong.</param>
    public SuperStreamRoutingException(string superStream, string? routingKey, string message)
        : base(message)
    {
        SuperStream = superStream;
        RoutingKey = routingKey;
    }

    /// <summary>The super stream.</summary>
    public string SuperStream { get; }

    /// <summary>The routing key that matched no partition.</summary>
    public string? RoutingKey { get; }
}
