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
