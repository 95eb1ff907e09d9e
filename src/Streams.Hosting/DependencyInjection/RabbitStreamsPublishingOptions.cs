using Streams.Client;

namespace Streams.Hosting;

/// <summary>Defaults for <see cref="IStreamPublisher"/> (section <c>RabbitStreams:Publishing</c>).</summary>
public sealed class RabbitStreamsPublishingOptions
{
    /// <summary>
    /// How long <see cref="IStreamPublisher.PublishAsync{T}"/> waits for the broker's confirm, including creating the
    /// stream's producer on first use. Default 30 seconds. A publish that is not confirmed in time throws
    /// <see cref="StreamPublishTimeoutException"/> (the message may still have been stored).
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Maximum unconfirmed messages per pooled producer before publishers wait (back-pressure). Default 10,000.</summary>
    public int MaxUnconfirmed { get; set; } = 10_000;

    /// <summary>Messages per Publish frame when concurrent callers are batched together. Default 100.</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>
    /// The publisher reference used for messages published with <see cref="PublishOptions.DeduplicationId"/>
    /// (the broker drops a message whose id is not greater than the last one stored for this reference).
    /// Must be stable across restarts and unique per application; required only when deduplication ids are used.
    /// </summary>
    public string? DeduplicationProducerName { get; set; }

    /// <summary>
    /// How messages published to a super stream with <see cref="PublishOptions.RoutingKey"/> choose their partition,
    /// per super stream name; unlisted super streams use <see cref="SuperStreamRoutingStrategy.Hash"/> (MurmurHash3 of
    /// the key modulo the partition count, the same as the other RabbitMQ stream clients).
    /// <see cref="SuperStreamRoutingStrategy.Key"/> asks the broker which partitions are bound to the routing key
    /// (cached per key) and publishes to each; a key no partition is bound to fails with
    /// <see cref="StreamPublishException"/>. A super stream declared with binding keys
    /// (<c>AddSuperStream(name, bindingKeys)</c> on the builder)
    /// is routed by key unless set here.
    /// </summary>
    public IDictionary<string, SuperStreamRoutingStrategy> SuperStreamRouting { get; } = new Dictionary<string, SuperStreamRoutingStrategy>(StringComparer.Ordinal);
}
