namespace Streams.Hosting.Internal.Pipeline;

/// <summary>
/// Sees what the pipeline did with each message (the test harness records it): registered only by
/// <c>Streams.Hosting.Testing</c>; without one, the pipeline pays one null check per message.
/// </summary>
internal interface IConsumeObserver
{
    /// <summary>A message published through <see cref="IStreamPublisher"/> was confirmed.</summary>
    void Published(string stream, object message, Type messageType, PublishOptions? options);

    /// <summary>A handler completed for a message (or a consume filter short-circuited it).</summary>
    void Consumed(Type handlerType, object? message, StreamContext context);

    /// <summary>A message failed its last attempt (attempts 0: it could not be read) and went to the failure policy.</summary>
    void Faulted(Type handlerType, Type messageType, string source, ulong offset, object? payload, Exception error, int attempts);

    /// <summary>A failed message was written to its dead-letter stream.</summary>
    void DeadLettered(string source, string deadLetterStream, Streams.Client.Message message);
}
