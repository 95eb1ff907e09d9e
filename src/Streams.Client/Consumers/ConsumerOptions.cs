namespace Streams.Client;

/// <summary>Settings of a <see cref="Consumer"/>.</summary>
public sealed class ConsumerOptions
{
    /// <summary>The smallest accepted <see cref="MaxSubEntryUncompressedSize"/>: 1 KiB.</summary>
    private const int MinSubEntryUncompressedSizeLimit = 1024;

    /// <summary>Creates options for a consumer of <paramref name="stream"/>.</summary>
    /// <param name="stream">The stream to read.</param>
    public ConsumerOptions(string stream)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stream);
        Stream = stream;
    }

    /// <summary>The stream to read.</summary>
    public string Stream { get; }

    /// <summary>Where to start when no offset is stored for <see cref="Name"/> (default <see cref="OffsetSpecification.Next"/>).</summary>
    public OffsetSpecification Offset { get; set; } = OffsetSpecification.Next;

    /// <summary>
    /// The consumer reference used for server-side offset tracking (<see cref="Consumer.StoreOffsetAsync"/>), at most 255
    /// UTF-8 bytes. With <see cref="ResumeFromStoredOffset"/>, a named consumer resumes after its stored offset.
    /// </summary>
    public string? Name { get; set; }

    /// <summary>When <see cref="Name"/> has a stored offset, start right after it instead of at <see cref="Offset"/> (default true).</summary>
    public bool ResumeFromStoredOffset { get; set; } = true;

    /// <summary>
    /// Chunks the broker may send ahead (default 10, at most 1,000). One credit is returned per chunk once processed,
    /// so at most this many chunks are buffered. The broker resumes sending only when more than half of this is
    /// available again, so very small values cost throughput on streams made of small chunks; values above 32,767
    /// would stall the subscription (protocol §9).
    /// </summary>
    public ushort InitialCredits { get; set; } = 10;

    /// <summary>Validate each chunk's CRC-32 before delivering it (default true).</summary>
    public bool CrcCheck { get; set; } = true;

    /// <summary>
    /// The largest uncompressed size, in bytes, a compressed sub-entry batch may declare (default 64 MiB, the broker's
    /// own <c>stream.max_uncompressed_sub_entry_batch_size</c>; between 1 KiB and <see cref="Array.MaxLength"/>). The
    /// declared size is checked before any buffer is allocated: a larger one stops the consumer with
    /// <see cref="ChunkFormatException"/>, so a corrupt or hostile chunk cannot make the client allocate gigabytes. Raise
    /// it only if the broker's limit was raised.
    /// </summary>
    public int MaxSubEntryUncompressedSize { get; set; } = Consumers.ChunkReader.DefaultMaxUncompressedSize;

    /// <summary>
    /// The push-style handler, called once per message in offset order; the next message waits until the returned task
    /// completes. Leave null to read with <see cref="Consumer.ReadAllAsync"/>. An exception stops the consumer
    /// (<see cref="Consumer.Completion"/> faults).
    /// </summary>
    public Func<Delivery, CancellationToken, ValueTask>? Handler { get; set; }

    /// <summary>Extra Subscribe properties, sent as they are.</summary>
    public IReadOnlyDictionary<string, string>? Properties { get; set; }

    /// <summary>
    /// Join the single-active-consumer group <see cref="Name"/> (required): only one consumer of the group receives
    /// messages; the next takes over, from the stored offset, when it leaves.
    /// </summary>
    public bool SingleActiveConsumer { get; set; }

    /// <summary>
    /// Broker-side filtering (RabbitMQ 3.13+): only chunks holding one of these filter values (set by producers with
    /// <see cref="ProducerOptions.FilterValue"/>) are sent. Filtering is per chunk and probabilistic, so combine it with
    /// <see cref="PostFilter"/>: <see cref="StreamFilter.CreatePostFilter"/> checks the convention's property.
    /// </summary>
    public IReadOnlyList<string>? FilterValues { get; set; }

    /// <summary>With <see cref="FilterValues"/>, also receive chunks holding messages without filter value.</summary>
    public bool MatchUnfiltered { get; set; }

    /// <summary>Client-side predicate: messages for which it returns false are skipped (neither handled nor yielded).</summary>
    public Func<Delivery, bool>? PostFilter { get; set; }

    /// <summary>
    /// Single active consumer: chooses where this consumer starts when the broker activates it. It receives the offset
    /// stored for <see cref="Name"/> (if any) and the default choice — right after the stored offset, else
    /// <see cref="Offset"/> (and never before what this consumer already delivered). Must answer within 30 s (the token
    /// fires then); returning <see cref="OffsetSpecification.None"/> means <see cref="Offset"/>.
    /// </summary>
    public Func<ConsumerActivation, CancellationToken, ValueTask<OffsetSpecification>>? ActivationHandler { get; set; }

    /// <summary>
    /// Single active consumer: when the broker deactivates this consumer (or it is disposed while active), store the
    /// offset of the last processed message for <see cref="Name"/> before answering, so the next active consumer resumes
    /// right after it (default true).
    /// </summary>
    public bool StoreOffsetOnDeactivation { get; set; } = true;

    /// <summary>
    /// How the consumer recovers from a lost connection or a moved stream member (default <see cref="RecoveryPolicy.Default"/>):
    /// it re-locates the stream, reconnects (to a replica when there is one) and resubscribes right after the last offset
    /// it delivered — no gap, no redelivery; before the first delivery it starts as configured. A deleted stream ends
    /// <see cref="Consumer.Completion"/> with <see cref="StreamDeletedException"/>. <see cref="RecoveryPolicy.Disabled"/>
    /// faults the consumer on the first loss instead.
    /// </summary>
    public RecoveryPolicy Recovery { get; set; } = RecoveryPolicy.Default;

    /// <summary>The clock of the recovery back-off (default <see cref="TimeProvider.System"/>).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>The Subscribe properties: <see cref="Properties"/> plus the single-active-consumer and filter entries.</summary>
    internal IReadOnlyDictionary<string, string>? BuildSubscribeProperties()
    {
        if (!SingleActiveConsumer && FilterValues is not { Count: > 0 })
        {
            return Properties;
        }

        var properties = Properties is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(Properties, StringComparer.Ordinal);
        if (SingleActiveConsumer)
        {
            properties["single-active-consumer"] = "true";
            properties["name"] = Name!;
        }

        if (FilterValues is { Count: > 0 } filters)
        {
            for (int i = 0; i < filters.Count; i++)
            {
                properties[$"filter.{i}"] = filters[i];
            }

            properties["match-unfiltered"] = MatchUnfiltered ? "true" : "false";
        }

        return properties;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> describing the first invalid setting.</summary>
    public void Validate()
    {
        if (Name is not null)
        {
            if (Name.Length == 0)
            {
                throw new ArgumentException("ConsumerOptions.Name must not be empty; use null for an anonymous consumer.", nameof(Name));
            }

            if (System.Text.Encoding.UTF8.GetByteCount(Name) > 255)
            {
                throw new ArgumentException("ConsumerOptions.Name (the offset-tracking reference) is limited to 255 UTF-8 bytes.", nameof(Name));
            }
        }

        if (InitialCredits is < 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(InitialCredits), InitialCredits, "ConsumerOptions.InitialCredits must be between 1 and 1,000 (it counts chunks, not messages).");
        }

        if (MaxSubEntryUncompressedSize < MinSubEntryUncompressedSizeLimit || MaxSubEntryUncompressedSize > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxSubEntryUncompressedSize), MaxSubEntryUncompressedSize, $"ConsumerOptions.MaxSubEntryUncompressedSize must be between {MinSubEntryUncompressedSizeLimit} (1 KiB) and {Array.MaxLength} bytes (default 64 MiB, the broker's limit).");
        }

        if (SingleActiveConsumer && Name is null)
        {
            throw new ArgumentException("ConsumerOptions.SingleActiveConsumer needs a Name (the group name).", nameof(SingleActiveConsumer));
        }

        if (FilterValues is not null && FilterValues.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("ConsumerOptions.FilterValues must not contain null or empty values.", nameof(FilterValues));
        }

        if (Recovery is null)
        {
            throw new ArgumentException("ConsumerOptions.Recovery must not be null (use RecoveryPolicy.Disabled to turn recovery off).", nameof(Recovery));
        }

        Recovery.Validate();
        if (TimeProvider is null)
        {
            throw new ArgumentException("ConsumerOptions.TimeProvider must not be null.", nameof(TimeProvider));
        }

        if (ActivationHandler is not null && !SingleActiveConsumer)
        {
            throw new ArgumentException("ConsumerOptions.ActivationHandler only applies with SingleActiveConsumer.", nameof(ActivationHandler));
        }

        if (Offset.Type == OffsetType.None)
        {
            throw new ArgumentException("OffsetSpecification.None is only valid in a consumer-update answer; use First, Last, Next, Offset or Timestamp.", nameof(Offset));
        }
    }
}

/// <summary>What a single active consumer's <see cref="ConsumerOptions.ActivationHandler"/> receives when the broker activates it.</summary>
/// <param name="Consumer">The activated consumer.</param>
/// <param name="Stream">The stream (partition) it reads.</param>
/// <param name="Name">The group name (<see cref="ConsumerOptions.Name"/>).</param>
/// <param name="StoredOffset">The offset stored for the group, or <see langword="null"/> when none is.</param>
/// <param name="DefaultOffset">The client's default choice: right after the stored offset, else the configured offset.</param>
public readonly record struct ConsumerActivation(Consumer Consumer, string Stream, string Name, ulong? StoredOffset, OffsetSpecification DefaultOffset);
