using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Streams.Client;
using Streams.Hosting;

namespace StreamsWorker.Tests;

/// <summary>
/// Runs the worker's services against a real broker: <c>RABBITMQ_STREAM_URI</c>, or the local one
/// (rabbitmq-stream://guest:guest@localhost:5552/%2f). Each test uses a stream of its own.
/// </summary>
public sealed class WorkItemHandlerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static string BrokerUri =>
        Environment.GetEnvironmentVariable("RABBITMQ_STREAM_URI") is { Length: > 0 } uri ? uri : "rabbitmq-stream://guest:guest@localhost:5552/%2f";

    [Fact]
    public async Task A_published_work_item_is_processed_and_the_worker_is_healthy()
    {
        var ct = TestContext.Current.CancellationToken;
        var stream = $"work-items-test-{Guid.NewGuid():N}";
        var processor = new RecordingProcessor();
        using var host = BuildHost(stream, processor);
        await host.StartAsync(ct);
        try
        {
            var publisher = host.Services.GetRequiredService<IStreamPublisher>();
            await publisher.PublishAsync(stream, new WorkItem("1", "hello"), ct);

            var processed = await processor.Processed.Task.WaitAsync(Patience, ct);
            Assert.Equal(new WorkItem("1", "hello"), processed);

            var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(ct);
            Assert.Equal(HealthStatus.Healthy, health.Status);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
            await using var system = await StreamSystem.ConnectAsync(StreamSystemOptions.FromUri(BrokerUri), CancellationToken.None);
            await system.DeleteStreamAsync(stream, CancellationToken.None);
        }
    }

    private static IHost BuildHost(string stream, RecordingProcessor processor)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RabbitStreams:ConnectionString"] = BrokerUri,
            ["WorkItems:Stream"] = stream,
        });
        builder.Services.AddWorkerServices(builder.Configuration);
        builder.Services.AddSingleton<IWorkItemProcessor>(processor); // the last registration wins: replaces the logging processor
        return builder.Build();
    }

    private sealed class RecordingProcessor : IWorkItemProcessor
    {
        public TaskCompletionSource<WorkItem> Processed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task ProcessAsync(WorkItem item, CancellationToken cancellationToken)
        {
            Processed.TrySetResult(item);
            return Task.CompletedTask;
        }
    }
}
