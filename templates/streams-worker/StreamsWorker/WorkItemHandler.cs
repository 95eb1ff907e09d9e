using Streams.Hosting;

namespace StreamsWorker;

/// <summary>A message of the stream (JSON).</summary>
public sealed record WorkItem(string Id, string Text);

/// <summary>Where the work happens: replace <see cref="LoggingWorkItemProcessor"/> with your own.</summary>
public interface IWorkItemProcessor
{
    Task ProcessAsync(WorkItem item, CancellationToken cancellationToken);
}

public sealed class LoggingWorkItemProcessor(ILogger<LoggingWorkItemProcessor> logger) : IWorkItemProcessor
{
    public Task ProcessAsync(WorkItem item, CancellationToken cancellationToken)
    {
        logger.LogInformation("Processed work item {Id}: {Text}", item.Id, item.Text);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Consumes the stream. <c>Name</c> is the offset-tracking reference: after a restart the handler resumes after the
/// last stored offset (<c>Offset</c> only applies the first time). A throwing handler is retried, then the message
/// goes to the dead-letter stream (<c>RabbitStreams:Consumers:FailurePolicy</c> in appsettings.json).
/// </summary>
[StreamConsumer("{WorkItems:Stream}", Name = "StreamsWorker", Offset = StreamOffset.First)]
public sealed class WorkItemHandler(IWorkItemProcessor processor) : IStreamHandler<WorkItem>
{
    public Task HandleAsync(WorkItem message, StreamContext context, CancellationToken cancellationToken) =>
        processor.ProcessAsync(message, cancellationToken);
}
