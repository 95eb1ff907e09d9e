namespace Streams.Hosting;

/// <summary>
/// One consumer's settings from configuration, bound from <c>RabbitStreams:Consumers:ByName:{key}</c> where the key is the
/// consumer's <see cref="StreamConsumerOptions.Name"/> (after its placeholders are resolved) or, for a consumer without
/// a name, the handler class name. Every setting left unset keeps the value of the <see cref="StreamConsumerAttribute"/>;
/// the <c>AddConsumer&lt;T&gt;(configure)</c> callback runs last and wins over both. A key that matches no consumer
/// fails the start.
/// </summary>
/// <example>
/// <code>
/// "RabbitStreams": { "Consumers": { "ByName": { "billing": { "Stream": "orders-eu", "MaxConcurrency": 4 } } } }
/// </code>
/// </example>
public sealed class StreamConsumerSettings
{
    /// <summary>The stream (or super stream) to consume instead of the attribute's.</summary>
    public string? Stream { get; set; }

    /// <summary>Where to start when nothing is stored for the consumer's name.</summary>
    public StreamOffset? Offset { get; set; }

    /// <summary>Single active consumer per name (requires a name).</summary>
    public bool? SingleActiveConsumer { get; set; }

    /// <summary>The stream is a super stream.</summary>
    public bool? SuperStream { get; set; }

    /// <summary>Handler invocations in flight at once (1 = strictly ordered).</summary>
    public int? MaxConcurrency { get; set; }

    /// <summary>Only messages published with one of these filter values (see <see cref="StreamConsumerOptions.FilterValues"/>).</summary>
    public IList<string>? FilterValues { get; set; }

    /// <summary>With <see cref="FilterValues"/>: also deliver messages published without a filter value.</summary>
    public bool? MatchUnfiltered { get; set; }

    /// <summary>Replaces <see cref="RabbitStreamsConsumerOptions.FailurePolicy"/> for this consumer (a whole policy: unset members take the policy's defaults).</summary>
    public HandlerFailurePolicy? FailurePolicy { get; set; }

    /// <summary>Overrides <see cref="RabbitStreamsConsumerOptions.CommitEveryMessages"/> for this consumer.</summary>
    public int? CommitEveryMessages { get; set; }

    /// <summary>Overrides <see cref="RabbitStreamsConsumerOptions.CommitInterval"/> for this consumer.</summary>
    public TimeSpan? CommitInterval { get; set; }

    /// <summary>False: the consumer starts paused (see <see cref="StreamConsumerOptions.AutoStart"/>).</summary>
    public bool? AutoStart { get; set; }

    /// <summary>Applies the settings that are set to <paramref name="options"/>.</summary>
    internal void ApplyTo(StreamConsumerOptions options)
    {
        options.Stream = Stream ?? options.Stream;
        if (Offset is { } offset)
        {
            options.Offset = offset.ToSpecification();
        }

        options.SingleActiveConsumer = SingleActiveConsumer ?? options.SingleActiveConsumer;
        options.SuperStream = SuperStream ?? options.SuperStream;
        options.MaxConcurrency = MaxConcurrency ?? options.MaxConcurrency;
        if (FilterValues is { } filters)
        {
            options.FilterValues = [.. filters];
        }

        options.MatchUnfiltered = MatchUnfiltered ?? options.MatchUnfiltered;
        options.FailurePolicy = FailurePolicy ?? options.FailurePolicy;
        options.CommitEveryMessages = CommitEveryMessages ?? options.CommitEveryMessages;
        options.CommitInterval = CommitInterval ?? options.CommitInterval;
        options.AutoStart = AutoStart ?? options.AutoStart;
    }
}
