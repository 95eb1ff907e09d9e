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
    /// The most messages per sub-entry batch of the pooled producers (default 1 = no sub-entry batches; at most
    /// 65,535): above 1, the messages that concurrent callers publish together are grouped into sub-entry batches (one
    /// entry of the stream's chunk each, compressed with <see cref="Compression"/>), maps to
    /// <see cref="ProducerOptions.SubEntrySize"/>. A batch closes when full or when the connection is free, so a lone
    /// publish is not delayed. Each caller still gets its own confirm: the broker confirms a batch as a whole (under
    /// its last message's publishing id). With <see cref="DeduplicationProducerName"/> the broker deduplicates per
    /// batch, which keeps re-sends after a lost connection exact; <see cref="PublishOptions.DeduplicationId"/> values
    /// must then increase within and across batches (a batch whose last id is new is stored whole). Sub-entry
    /// batches cannot carry filter values: <see cref="PublishOptions.FilterValue"/> is refused while this is above 1
    /// (consumers filtering with <c>FilterValues</c> only see such messages with <c>MatchUnfiltered</c>).
    /// </summary>
    public int SubEntrySize { get; set; } = 1;

    /// <summary>
    /// The compression of the sub-entry batches (<see cref="SubEntrySize"/> above 1): None (default), Gzip (built in),
    /// Snappy, Lz4 or Zstd. Snappy, LZ4 and Zstd need their codec: reference <c>Streams.Client.Compression</c> and call
    /// <c>AddRabbitStreams(...).AddCompressionCodecs(StreamCompressionCodecs.All)</c>; a codec that is not registered
    /// fails the start, naming this key. Hosted consumers decompress with the same codecs.
    /// </summary>
    public CompressionType Compression { get; set; } = CompressionType.None;

    /// <summary>The suffix of the reference under which messages published without a deduplication id are numbered.</summary>
    internal const string AutomaticIdsSuffix = "-auto";

    /// <summary>
    /// The publisher reference of this application instance: the recommended production setting. With it, every
    /// pooled producer is named, so that after a lost connection (a leader crash, a node restart) the messages that were
    /// sent but not confirmed are re-sent with their publishing ids and the broker drops those it already stored: callers
    /// see no error for them. Messages published with <see cref="PublishOptions.DeduplicationId"/> use this reference with
    /// the caller's ids; the others use <c>{name}-auto</c> with ids numbered by the client. Must be unique per running
    /// instance (two instances sharing it would have each other's messages dropped as duplicates: add the host or pod
    /// name, e.g. <c>orders-api-${HOSTNAME}</c> set through the environment) and, for caller ids, stable across restarts.
    /// At most 250 UTF-8 bytes. Without it, a message whose confirm is lost with the connection fails with
    /// <see cref="StreamPublishOutcomeUnknownException"/>, and <see cref="PublishOptions.DeduplicationId"/> cannot be used.
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
