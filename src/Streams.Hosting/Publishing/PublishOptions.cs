using Streams.Client;

namespace Streams.Hosting;

/// <summary>Per-message settings for <see cref="IStreamPublisher.PublishAsync{T}"/>.</summary>
public sealed class PublishOptions
{
    /// <summary>
    /// The application property carrying <see cref="FilterValue"/> so consumers can re-check it (filtering is
    /// probabilistic): <see cref="StreamFilter.PropertyName"/>, the client's filter convention, which the CLI's
    /// <c>publish --filter</c> and <c>tail --filter</c> follow too.
    /// </summary>
    public const string FilterValueHeader = StreamFilter.PropertyName;

    /// <summary>The AMQP message id.</summary>
    public string? MessageId { get; set; }

    /// <summary>The AMQP correlation id.</summary>
    public string? CorrelationId { get; set; }

    /// <summary>
    /// The AMQP <c>group-id</c>: consumers with <see cref="StreamConsumerAttribute.MaxConcurrency"/> &gt; 1 handle
    /// messages of one group in order (defaults to <see cref="RoutingKey"/>).
    /// </summary>
    public string? GroupId { get; set; }

    /// <summary>Application properties (strings, numbers, booleans, <see cref="Guid"/>, <see cref="DateTimeOffset"/>, byte arrays).</summary>
    public IDictionary<string, object?>? Headers { get; set; }

    /// <summary>
    /// Publish to a super stream: the stream argument is the super stream, and the partition is chosen by hashing this
    /// key (MurmurHash3, seed 104729, modulo the partition count: the strategy of the Java and .NET clients), so
    /// messages with the same key keep their order in one partition. The key is also written as the AMQP
    /// <c>group-id</c> (when not set), which consumers with <see cref="StreamConsumerAttribute.MaxConcurrency"/> &gt; 1 keep in order.
    /// </summary>
    public string? RoutingKey { get; set; }

    /// <summary>
    /// The filter value indexed in the chunk's Bloom filter (RabbitMQ 3.13+); also written to the
    /// <see cref="FilterValueHeader"/> application property (the convention of <see cref="StreamFilter"/>). Refused
    /// while <see cref="RabbitStreamsPublishingOptions.SubEntrySize"/> is above 1 (sub-entry batches carry no filter values).
    /// </summary>
    public string? FilterValue { get; set; }

    /// <summary>
    /// A strictly increasing id: the broker confirms but does not store a message whose id is not greater than the last
    /// one stored for <see cref="RabbitStreamsPublishingOptions.DeduplicationProducerName"/> on this stream.
    /// </summary>
    public ulong? DeduplicationId { get; set; }
}
