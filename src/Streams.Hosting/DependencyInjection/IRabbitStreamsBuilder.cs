using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Streams.Client;

namespace Streams.Hosting;

/// <summary>Declares streams, consumers and serializers after <c>AddRabbitStreams</c>.</summary>
public interface IRabbitStreamsBuilder
{
    /// <summary>The service collection.</summary>
    IServiceCollection Services { get; }

    /// <summary>
    /// Creates <paramref name="name"/> when the host starts (nothing happens when it exists with the same arguments;
    /// different arguments fail the start with a message naming the stream).
    /// </summary>
    /// <param name="name">The stream.</param>
    /// <param name="configure">Retention and placement (broker defaults when omitted).</param>
    IRabbitStreamsBuilder AddStream(string name, Action<StreamSpec>? configure = null);

    /// <summary>Creates a super stream with partitions <c>{name}-0</c> … <c>{name}-{n-1}</c> (binding keys 0 … n-1) when the host starts.</summary>
    /// <param name="name">The super stream.</param>
    /// <param name="partitions">The number of partitions (1-1000).</param>
    /// <param name="configure">Arguments applied to every partition.</param>
    IRabbitStreamsBuilder AddSuperStream(string name, int partitions, Action<StreamSpec>? configure = null);

    /// <summary>
    /// Declares a super stream with one partition per binding key, named <c>{name}-{key}</c> (the layout of
    /// <c>rabbitmq-streams add_super_stream --binding-keys</c>), created at start when missing. Messages published
    /// to it are routed by key: <see cref="PublishOptions.RoutingKey"/> must equal a binding key (see
    /// <see cref="RabbitStreamsPublishingOptions.SuperStreamRouting"/>).
    /// </summary>
    /// <param name="name">The super stream name.</param>
    /// <param name="bindingKeys">The binding keys, one partition each (1 to 1,000, distinct, not empty).</param>
    /// <param name="configure">Sets the partitions' retention and other arguments.</param>
    IRabbitStreamsBuilder AddSuperStream(string name, IEnumerable<string> bindingKeys, Action<StreamSpec>? configure = null);

    /// <summary>
    /// Adds the consumer <typeparamref name="THandler"/> (an <see cref="IStreamHandler{T}"/> or <see cref="IStreamBatchHandler{T}"/>,
    /// usually with <see cref="StreamConsumerAttribute"/>). Adding it again (or after an assembly scan) only applies <paramref name="configure"/>.
    /// </summary>
    /// <typeparam name="THandler">
    /// The handler class: activated for each message (or batch) from a fresh DI scope, its constructor dependencies
    /// resolved from that scope, and disposed with it. When its only constructor takes singletons only, the scope
    /// would make no difference and is skipped: those singletons are resolved once and a new handler is built from
    /// them per message. Register the type in DI yourself to control its lifetime (a singleton handler skips the
    /// per-message activation).
    /// </typeparam>
    /// <param name="configure">Adjusts the settings taken from the attribute.</param>
    IRabbitStreamsBuilder AddConsumer<THandler>(Action<StreamConsumerOptions>? configure = null)
        where THandler : class;

    /// <summary>Adds every class of <paramref name="assembly"/> that has <see cref="StreamConsumerAttribute"/>.</summary>
    /// <param name="assembly">The assembly to scan.</param>
    IRabbitStreamsBuilder AddConsumersFromAssembly(Assembly assembly);

    /// <summary>
    /// Adds a consume filter that wraps every handler invocation of every consumer (except batch handlers), in the
    /// order added and before the consumers' own filters (<see cref="StreamConsumerOptions.AddFilter{TFilter}"/>).
    /// See <see cref="IStreamConsumeFilter"/>.
    /// </summary>
    /// <typeparam name="TFilter">The filter class, activated per invocation from its DI scope.</typeparam>
    IRabbitStreamsBuilder AddConsumeFilter<TFilter>()
        where TFilter : class, IStreamConsumeFilter;

    /// <summary>Adds a serializer; the last one added is the default for publishing, others are chosen by content type when consuming.</summary>
    /// <param name="serializer">The serializer.</param>
    IRabbitStreamsBuilder AddSerializer(IStreamSerializer serializer);
}

/// <summary>Conveniences for <see cref="IRabbitStreamsBuilder"/>.</summary>
public static class RabbitStreamsBuilderExtensions
{
    /// <summary>Adds every <see cref="StreamConsumerAttribute"/> class of the assembly that contains <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">A type of the assembly to scan.</typeparam>
    /// <param name="builder">The builder.</param>
    public static IRabbitStreamsBuilder AddConsumersFromAssemblyContaining<T>(this IRabbitStreamsBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddConsumersFromAssembly(typeof(T).Assembly);
    }
}
