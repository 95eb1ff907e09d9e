using System.Text;

namespace Streams.Client;

/// <summary>Settings of a <see cref="Producer"/>.</summary>
public sealed class ProducerOptions
{
    /// <summary>Creates options for a producer publishing to <paramref name="stream"/>.</summary>
    /// <param name="stream">The stream to publish to.</param>
    public ProducerOptions(string stream)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stream);
        Stream = stream;
    }

    /// <summary>The stream to publish to.</summary>
    public string Stream { get; }

    /// <summary>
    /// The publisher reference (at most 255 UTF-8 bytes). When set, the broker deduplicates by publishing id:
    /// a message whose id is not greater than the last stored one for this name is confirmed but not stored,
    /// and the producer's automatic ids resume after the last stored id.
    /// </summary>
    public string? Name { get; set; }

    /// <summary>
    /// The most messages awaiting confirmation (default 10,000). Senders wait asynchronously for room; nothing is dropped.
    /// </summary>
    public int MaxUnconfirmed { get; set; } = 10_000;

    /// <summary>
    /// The most messages packed into one Publish frame (default 100). A frame also closes when it reaches the
    /// negotiated frame max. Frames are written as soon as the connection is free, so concurrent senders share frames.
    /// </summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>
    /// The most messages grouped into one sub-entry batch (default 1 = off; at most 65,535). Above 1, the messages the
    /// producer packs into a frame are grouped into sub-entry batches of up to this many messages, each one entry of
    /// the stream's chunk, compressed with <see cref="Compression"/>. A batch closes when it is full, when the next
    /// message would push it past the frame max, or when the connection is free to write it (so a lone message is not
    /// held back waiting for others: batching, as for frames, comes from concurrent or buffered senders). Needs Publish
    /// v1: <see cref="FilterValue"/> cannot be set. Consumers see the individual messages.
    /// </summary>
    /// <remarks>
    /// Every message keeps its own publishing id (automatic ids go up by one per message). The broker knows one id per
    /// batch, the id of its <b>last</b> message: it confirms (or rejects) that id, and the producer then completes
    /// every message of the batch with that outcome, each under its own id. With <see cref="Name"/> the broker
    /// deduplicates per batch: a batch whose last id is not greater than the last stored one is confirmed but not
    /// stored as a whole, and a batch whose last id is greater is stored as a whole (messages in it with smaller ids
    /// included), so ids must increase within and across batches. The last stored id the broker reports
    /// (<see cref="Producer.GetLastPublishingIdAsync"/>) is the last id of the last stored batch, and a recovered or
    /// new producer with the same name resumes after it; a recovered producer re-sends the same batches with the same
    /// ids, so nothing is stored twice.
    /// </remarks>
    public int SubEntrySize { get; set; } = 1;

    /// <summary>
    /// The compression of sub-entry batches (default <see cref="CompressionType.None"/>); needs <see cref="SubEntrySize"/>
    /// above 1. Gzip is built in; Snappy, LZ4 and Zstd need their codec registered on
    /// <see cref="StreamSystemOptions.CompressionCodecs"/> (the <c>Streams.Client.Compression</c> package), otherwise
    /// creating the producer fails with <see cref="UnsupportedCompressionException"/> naming the codec. Compression runs
    /// on the sending thread when a batch closes.
    /// </summary>
    public CompressionType Compression { get; set; } = CompressionType.None;

    /// <summary>How long a message may wait for its confirmation (default 30 s).</summary>
    public TimeSpan ConfirmTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long <see cref="Producer.DisposeAsync"/> waits for in-flight messages (default 10 s); the rest fail.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Computes the filter value of each <see cref="Message"/> (Publish v2, broker 3.13+); <see langword="null"/> = no
    /// filter value. Setting it makes the producer use Publish v2 frames, which the broker must support. Raw-byte
    /// messages carry no filter value. <see cref="StreamFilter.ProducerFilterValue"/> follows the filter convention
    /// (the value also travels in a property consumers re-check).
    /// </summary>
    public Func<Message, string?>? FilterValue { get; set; }

    /// <summary>
    /// How the producer recovers from a lost connection or a moved stream leader (default <see cref="RecoveryPolicy.Default"/>:
    /// on, unlimited attempts with back-off). A named producer re-declares itself and re-sends its unconfirmed messages
    /// with their original publishing ids (deduplication drops what was already stored); an unnamed producer fails the
    /// messages it had written but not seen confirmed with <see cref="ConfirmationStatus.ConnectionLost"/> and keeps
    /// the rest. A deleted stream closes the producer (<see cref="ConfirmationStatus.StreamDeleted"/>).
    /// Use <see cref="RecoveryPolicy.Disabled"/> to close on the first loss instead.
    /// </summary>
    public RecoveryPolicy Recovery { get; set; } = RecoveryPolicy.Default;

    /// <summary>The clock used for confirm timeouts and recovery back-off (default <see cref="TimeProvider.System"/>).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws an <see cref="ArgumentException"/> describing the first invalid setting.</summary>
    public void Validate()
    {
        if (Name is not null)
        {
            if (Name.Length == 0)
            {
                throw new ArgumentException("ProducerOptions.Name must not be empty; use null for a producer without deduplication.", nameof(Name));
            }

            if (Encoding.UTF8.GetByteCount(Name) > 255)
            {
                throw new ArgumentException("ProducerOptions.Name (the publisher reference) is limited to 255 UTF-8 bytes.", nameof(Name));
            }
        }

        if (MaxUnconfirmed is < 1 or > 1_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxUnconfirmed), MaxUnconfirmed, "ProducerOptions.MaxUnconfirmed must be between 1 and 1,000,000.");
        }

        if (BatchSize is < 1 or > 100_000)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "ProducerOptions.BatchSize must be between 1 and 100,000.");
        }

        if (SubEntrySize is < 1 or > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(SubEntrySize), SubEntrySize, "ProducerOptions.SubEntrySize must be between 1 (no sub-entry batches) and 65,535.");
        }

        if ((byte)Compression > 7)
        {
            throw new ArgumentOutOfRangeException(nameof(Compression), Compression, "ProducerOptions.Compression must be a 3-bit compression code (0-7).");
        }

        if (Compression != CompressionType.None && SubEntrySize == 1)
        {
            throw new ArgumentException($"ProducerOptions.Compression ({Compression}) compresses sub-entry batches: set ProducerOptions.SubEntrySize above 1.", nameof(Compression));
        }

        if (SubEntrySize > 1 && FilterValue is not null)
        {
            throw new ArgumentException("ProducerOptions.FilterValue needs Publish v2 frames, which cannot carry sub-entry batches: use SubEntrySize 1 with filter values.", nameof(FilterValue));
        }

        if (ConfirmTimeout <= TimeSpan.Zero && ConfirmTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(ConfirmTimeout), ConfirmTimeout, "ProducerOptions.ConfirmTimeout must be positive (or Timeout.InfiniteTimeSpan).");
        }

        if (DrainTimeout < TimeSpan.Zero && DrainTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(DrainTimeout), DrainTimeout, "ProducerOptions.DrainTimeout must not be negative.");
        }

        if (TimeProvider is null)
        {
            throw new ArgumentException("ProducerOptions.TimeProvider must not be null.", nameof(TimeProvider));
        }

        if (Recovery is null)
        {
            throw new ArgumentException("ProducerOptions.Recovery must not be null (use RecoveryPolicy.Disabled to turn recovery off).", nameof(Recovery));
        }

        Recovery.Validate();
    }
}
