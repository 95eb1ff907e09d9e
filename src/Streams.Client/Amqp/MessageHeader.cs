namespace Streams.Client;

/// <summary>The AMQP 1.0 <c>header</c> section: transport-level delivery hints.</summary>
public sealed class MessageHeader
{
    /// <summary>Whether the message is durable (AMQP 0.9.1 delivery-mode 2). Defaults to false.</summary>
    public bool Durable { get; set; }

    /// <summary>The relative priority (AMQP default 4).</summary>
    public byte Priority { get; set; } = 4;

    /// <summary>The time-to-live in milliseconds, or null for none.</summary>
    public uint? Ttl { get; set; }

    /// <summary>Whether this is the first acquirer of the message. Defaults to false.</summary>
    public bool FirstAcquirer { get; set; }

    /// <summary>The number of prior unsuccessful delivery attempts. Defaults to 0.</summary>
    public uint DeliveryCount { get; set; }

    /// <summary>The time-to-live as a <see cref="TimeSpan"/> view over <see cref="Ttl"/> (whole milliseconds).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or longer than <see cref="uint.MaxValue"/> milliseconds.</exception>
    public TimeSpan? TimeToLive
    {
        get => Ttl is { } ms ? TimeSpan.FromMilliseconds(ms) : null;
        set
        {
            if (value is not { } ts)
            {
                Ttl = null;
                return;
            }

            var ms = (long)ts.TotalMilliseconds;
            ArgumentOutOfRangeException.ThrowIfNegative(ms, nameof(value));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(ms, uint.MaxValue, nameof(value));
            Ttl = (uint)ms;
        }
    }
}
