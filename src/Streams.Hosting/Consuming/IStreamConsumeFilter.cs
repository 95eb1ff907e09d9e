namespace Streams.Hosting;

/// <summary>
/// Wraps each handler invocation of a hosted consumer (middleware): runs code before and after the handler, or
/// short-circuits it. Register it for all consumers with <see cref="IRabbitStreamsBuilder.AddConsumeFilter{TFilter}"/>
/// or for one with <see cref="StreamConsumerOptions.AddFilter{TFilter}"/>; filters run in the order registered, the
/// global ones first. A filter is activated for each invocation from the invocation's DI scope (its constructor
/// dependencies are resolved from it; register the filter type in DI to choose its lifetime), and runs again for every
/// retry (<see cref="StreamConsumeContext.Attempt"/>). Not calling <c>next</c> ends the invocation as handled (the
/// offset moves on); an exception goes through the consumer's failure policy exactly as a handler's would.
/// Batch handlers (<see cref="IStreamBatchHandler{T}"/>) are not wrapped: global filters skip them, and a filter
/// added to a batch consumer fails the host's start.
/// </summary>
public interface IStreamConsumeFilter
{
    /// <summary>Handles one invocation; call <paramref name="next"/> to run the next filter, then the handler.</summary>
    /// <param name="context">The message, its <see cref="StreamContext"/>, the attempt, the handler type and the scope's services.</param>
    /// <param name="next">The rest of the pipeline (the next filter, then the handler).</param>
    /// <returns>A task that completes when the invocation is done.</returns>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1716:Identifiers should not match keywords", Justification = "The middleware convention (ASP.NET Core's InvokeAsync(context, next)).")]
    Task InvokeAsync(StreamConsumeContext context, StreamConsumeDelegate next);
}

/// <summary>The rest of a consume pipeline: the next filter, then the handler.</summary>
/// <param name="context">The invocation's context (pass on the one you were given).</param>
/// <returns>A task that completes when the rest of the pipeline is done.</returns>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "The middleware convention (ASP.NET Core's RequestDelegate).")]
public delegate Task StreamConsumeDelegate(StreamConsumeContext context);

/// <summary>One handler invocation as a consume filter sees it.</summary>
public sealed class StreamConsumeContext
{
    internal StreamConsumeContext(object? message, StreamContext streamContext, Type handlerType, Type messageType, IServiceProvider services, object handler, CancellationToken cancellationToken)
    {
        Message = message;
        StreamContext = streamContext;
        HandlerType = handlerType;
        MessageType = messageType;
        Services = services;
        Handler = handler;
        CancellationToken = cancellationToken;
    }

    /// <summary>The deserialized message (of <see cref="MessageType"/>) the handler is given.</summary>
    public object? Message { get; }

    /// <summary>Where the message comes from: stream, partition, offset, timestamp, headers, consumer name, attempt.</summary>
    public StreamContext StreamContext { get; }

    /// <summary>1 for the first invocation with this message, 2 for the first retry, and so on.</summary>
    public int Attempt => StreamContext.Attempt;

    /// <summary>The handler class.</summary>
    public Type HandlerType { get; }

    /// <summary>The message type the handler takes.</summary>
    public Type MessageType { get; }

    /// <summary>The invocation's DI scope (the handler's dependencies come from it).</summary>
    public IServiceProvider Services { get; }

    /// <summary>The handler's cancellation token: signalled when the host's shutdown timeout elapses.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The handler instance of this invocation.</summary>
    internal object Handler { get; }

    /// <inheritdoc />
    public override string ToString() => $"{HandlerType.Name} <- {StreamContext}";
}
