using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Streams.Client;
using Streams.Hosting;
using Streams.Hosting.Testing.Containers;

namespace StreamsWorker.Tests;

/// <summary>
/// Runs the worker's services against a real RabbitMQ in Docker (<see cref="RabbitStreamsFixture"/>: one broker for
/// the whole test run, reached through its mapped port). Each test uses a stream of its own.
/// </summary>
public sealed class WorkItemHandlerTests(RabbitStreamsFixture broker) : IClassFixture<RabbitStreamsFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_published_work_item_is_processed_and_the_worker_is_healthy()
    {
        var ct = TestContext.Current.CancellationToken;
        var stream = RabbitStreamsFixture.UniqueName("work-items-test");
        var processor = new RecordingProcessor();
        using var host = BuildHost(stream, processor);

        // The worker talks to the container's broker (a mapped port), not to a broker someone left on localhost:5552.
        Assert.Equal(broker.ConnectionString, host.Services.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value.ConnectionString);
        Assert.NotEqual(5552, broker.Container.MappedStreamPort);

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
            await using var system = await StreamSystem.ConnectAsync(broker.CreateStreamSystemOptions(), CancellationToken.None);
            await system.DeleteStreamAsync(stream, CancellationToken.None);
        }
    }

    private IHost BuildHost(string stream, RecordingProcessor processor)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(broker.Container.ToConfiguration());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["WorkItems:Stream"] = stream });
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
