using Streams.Client;

namespace Streams.Hosting;

/// <summary>
/// The settings of one consumer: initialized from its <see cref="StreamConsumerAttribute"/> and the
/// <see cref="RabbitStreamsConsumerOptions"/> defaults, adjustable with
/// <see cref="IRabbitStreamsBuilder.AddConsumer{THandler}(Action{StreamConsumerOptions}?)"/>.
/// </summary>
public sealed class StreamConsumerOptions
{
    /// <summary>The stream (or super stream) consumed.</summary>
    public string Stream { get; set; } = string.Empty;

    /// <summary>The consumer name (offset-tracking reference); null = anonymous, no offsets stored.</summary>
    public string? Name { get; set; }

    /// <summary>Where to start when nothing is stored for <see cref="Name"/>. Default <see cref="OffsetSpecification.First"/>.</summary>
    public OffsetSpecification Offset { get; set; } = OffsetSpecification.First;

    /// <summary>A copy starting at <paramref name="offset"/> when nothing is stored (a partition added at run time).</summary>
    internal StreamConsumerOptions StartingAt(OffsetSpecification offset)
    {
        var copy = (StreamConsumerOptions)MemberwiseClone();
        copy.Offset = offset;
        return copy;
    }

    /// <summary>Single active consumer per <see cref="Name"/> (requires a name).</summary>
    public bool SingleActiveConsumer { get; set; }

    /// <summary><see cref="Stream"/> is a super stream.</summary>
    public bool SuperStream { get; set; }

    /// <summary>Handler invocations in flight at once (1 = strictly ordered).</summary>
    public int MaxConcurrency { get; set; } = 1;

    /// <summary>
    /// Only messages published with one of these <see cref="PublishOptions.FilterValue"/>s (RabbitMQ 3.13+). The broker
    /// filters per chunk (probabilistically); the consumer re-checks each message's <c>x-stream-filter-value</c> header
    /// (<see cref="Streams.Client.StreamFilter"/>: what <see cref="IStreamPublisher"/> and <c>streams publish --filter</c>
    /// write), so the handler only sees matching messages. Skipped messages count as processed for offset tracking;
    /// each is logged at Debug level and counted (<c>rabbitmq.stream.consumer.filtered</c>, <see cref="StreamConsumerStatus.FilteredCount"/>).
    /// </summary>
    public IReadOnlyList<string>? FilterValues { get; set; }

    /// <summary>With <see cref="FilterValues"/>: also deliver messages published without a filter value.</summary>
    public bool MatchUnfiltered { get; set; }

    /// <summary>Overrides <see cref="RabbitStreamsConsumerOptions.FailurePolicy"/> for this consumer.</summary>
    public HandlerFailurePolicy? FailurePolicy { get; set; }

    /// <summary>Overrides <see cref="RabbitStreamsConsumerOptions.CommitEveryMessages"/> for this consumer.</summary>
    public int? CommitEveryMessages { get; set; }

    /// <summary>Overrides <see cref="RabbitStreamsConsumerOptions.CommitInterval"/> for this consumer.</summary>
    public TimeSpan? CommitInterval { get; set; }

    /// <summary>
    /// Overrides <see cref="RabbitStreamsConsumerOptions.WaitForStream"/> for this consumer: true = wait until a missing
    /// stream is created, false = fault at once with a hint to declare it.
    /// </summary>
    public bool? WaitForStream { get; set; }

    /// <summary>
    /// Overrides <see cref="RabbitStreamsConsumerOptions.AutoStart"/> for this consumer: false = the consumer does not
    /// subscribe when the host starts; it is <see cref="StreamConsumerState.Paused"/> (reason <c>"not started"</c>) until
    /// <see cref="IStreamConsumerControl.ResumeAsync"/>. Requires a <see cref="Name"/> (an anonymous consumer could never be started).
    /// </summary>
    public bool? AutoStart { get; set; }

    /// <summary>The consume filters of this consumer (<see cref="AddFilter{TFilter}"/>), in order; they run after the global ones.</summary>
    public IReadOnlyList<Type> Filters => _filters;

    private readonly List<Type> _filters = [];

    /// <summary>
    /// Adds a consume filter that wraps this consumer's handler invocations, after the filters added for all consumers
    /// with <see cref="IRabbitStreamsBuilder.AddConsumeFilter{TFilter}"/> (see <see cref="IStreamConsumeFilter"/>).
    /// Not supported for batch handlers: the host's start fails.
    /// </summary>
    /// <typeparam name="TFilter">The filter class, activated per invocation from its DI scope.</typeparam>
    /// <returns>These options.</returns>
    public StreamConsumerOptions AddFilter<TFilter>()
        where TFilter : class, IStreamConsumeFilter
    {
        _filters.Add(ConsumeFilters.Validate(typeof(TFilter)));
        return this;
    }
}

/// <summary>Checks on consume filter types.</summary>
internal static class ConsumeFilters
{
    public static Type Validate(Type type) => type.IsAbstract || type.IsGenericTypeDefinition
        ? throw new ArgumentException($"Consume filter {type.FullName} must be a concrete class (it is activated per invocation).", nameof(type))
        : type;
}
