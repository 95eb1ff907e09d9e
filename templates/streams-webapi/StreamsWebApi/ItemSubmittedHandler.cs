using Streams.Hosting;

namespace StreamsWebApi;

/// <summary>Where the work happens: replace <see cref="LoggingItemProcessor"/> with your own.</summary>
public interface IItemProcessor
{
    Task ProcessAsync(ItemSubmitted item, CancellationToken cancellationToken);
}

public sealed class LoggingItemProcessor(ILogger<LoggingItemProcessor> logger) : IItemProcessor
{
    public Task ProcessAsync(ItemSubmitted item, CancellationToken cancellationToken)
    {
        logger.LogInformation("Processed item {Id}: {Text}", item.Id, item.Text);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Consumes the stream the API publishes to. <c>Name</c> is the offset-tracking reference: after a restart the handler
/// resumes after the last stored offset (<c>Offset</c> only applies the first time). A throwing handler is retried, then
/// the message goes to the dead-letter stream (<c>RabbitStreams:Consumers:FailurePolicy</c> in appsettings.json).
/// </summary>
[StreamConsumer("{Items:Stream}", Name = "StreamsWebApi", Offset = StreamOffset.First)]
public sealed class ItemSubmittedHandler(IItemProcessor processor) : IStreamHandler<ItemSubmitted>
{
    public Task HandleAsync(ItemSubmitted message, StreamContext context, CancellationToken cancellationToken) =>
        processor.ProcessAsync(message, cancellationToken);
}
