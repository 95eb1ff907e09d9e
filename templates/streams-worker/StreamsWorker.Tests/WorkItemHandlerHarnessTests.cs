using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Hosting.Testing;

namespace StreamsWorker.Tests;

/// <summary>
/// The handler on the in-memory harness (<c>AddRabbitStreamsTestHarness</c>): the worker's own services and the real
/// consumer pipeline (serialization, retries, dead letters, offset commits), with no broker and no network. Each test
/// takes milliseconds.
/// </summary>
public sealed class WorkItemHandlerHarnessTests
{
    private const string Stream = "work-items-unit";

    [Fact]
    public async Task A_published_work_item_is_processed_and_its_offset_stored()
    {
        var ct = TestContext.Current.CancellationToken;
        var processor = new RecordingProcessor();
        using var host = BuildHost(processor);
        var harness = host.Services.GetRequiredService<IStreamsTestHarness>();
        await host.StartAsync(ct);

        await harness.PublishAsync(Stream, new WorkItem("1", "hello"), cancellationToken: ct);
        var consumed = await harness.WaitForConsumedAsync<WorkItem>(w => w.Id == "1", cancellationToken: ct);

        Assert.Equal(new WorkItem("1", "hello"), consumed.Message);
        Assert.Equal([new WorkItem("1", "hello")], processor.Items);
        await host.StopAsync(ct);
        Assert.Equal(consumed.Context.Offset, harness.StoredOffset(Stream, "StreamsWorker"));
    }

    [Fact]
    public async Task A_work_item_that_keeps_failing_is_retried_then_dead_lettered_and_the_next_one_processed()
    {
        var ct = TestContext.Current.CancellationToken;
        var processor = new RecordingProcessor { FailOn = "bad" };
        using var host = BuildHost(processor);
        var harness = host.Services.GetRequiredService<IStreamsTestHarness>();
        await host.StartAsync(ct);

        await harness.PublishAsync(Stream, new WorkItem("bad", "boom"), cancellationToken: ct);
        await harness.PublishAsync(Stream, new WorkItem("2", "fine"), cancellationToken: ct);
        var dead = await harness.WaitForDeadLetteredAsync(Stream, cancellationToken: ct);
        await harness.WaitForConsumedAsync<WorkItem>(w => w.Id == "2", cancellationToken: ct);

        Assert.Equal(typeof(InvalidOperationException).FullName, dead.Headers["x-exception-type"]);
        Assert.Equal(Stream, dead.Headers["x-original-stream"]);
        Assert.Equal(Stream + ".dlq", dead.DeadLetterStream);
        Assert.Equal(4, processor.Attempts("bad")); // the first attempt and 3 retries
        await host.StopAsync(ct);
    }

    private static IHost BuildHost(RecordingProcessor processor)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["WorkItems:Stream"] = Stream,
            ["RabbitStreams:Consumers:FailurePolicy:RetryDelay"] = "00:00:00", // no back-off waits in a unit test
        });
        builder.Services.AddWorkerServices(builder.Configuration);
        builder.Services.AddSingleton<IWorkItemProcessor>(processor);
        builder.Services.AddRabbitStreamsTestHarness();
        return builder.Build();
    }

    private sealed class RecordingProcessor : IWorkItemProcessor
    {
        private readonly List<WorkItem> _items = [];
        private readonly Dictionary<string, int> _attempts = [];

        public string? FailOn { get; init; }

        public IReadOnlyList<WorkItem> Items
        {
            get
            {
                lock (_items)
                {
                    return [.. _items];
                }
            }
        }

        public int Attempts(string id)
        {
            lock (_items)
            {
                return _attempts.GetValueOrDefault(id);
            }
        }

        public Task ProcessAsync(WorkItem item, CancellationToken cancellationToken)
        {
            lock (_items)
            {
                _attempts[item.Id] = _attempts.GetValueOrDefault(item.Id) + 1;
                if (item.Id == FailOn)
                {
                    throw new InvalidOperationException($"work item {item.Id} cannot be processed");
                }

                _items.Add(item);
            }

            return Task.CompletedTask;
        }
    }
}
