namespace Streams.Client;

/// <summary>Settings of a <see cref="Consumer"/>.</summary>
public sealed class ConsumerOptions
{
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
    /// Chunks the broker may send ahead (default 4, at most 1,000). One credit is returned per chunk once processed,
    /// so at most this many chunks are buffered. Values above 32,767 stall the subscription (protocol §9).
    /// </summary>
    public ushort InitialCredits { get; set; } = 4;

    /// <summary>Validate each chunk's CRC-32 before delivering it (default true).</summary>
    public bool CrcCheck { get; set; } = true;

    /// <summary>
    /// The push-style handler, called once per message in offset order; the next message waits until the returned task
    /// completes. Leave null to read with <see cref="Consumer.ReadAllAsync"/>. An exception stops the consumer
    /// (<see cref="Consumer.Completion"/> faults).
    /// </summary>
    public Func<Delivery, CancellationToken, ValueTask>? Handler { get; set; }

    /// <summary>Extra Subscribe properties (e.g. <c>filter.x</c>, <c>match-unfiltered</c>).</summary>
    public IReadOnlyDictionary<string, string>? Properties { get; set; }

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

        if (Offset.Type == OffsetType.None)
        {
            throw new ArgumentException("OffsetSpecification.None is only valid in a consumer-update answer; use First, Last, Next, Offset or Timestamp.", nameof(Offset));
        }
    }
}
