using Streams.Hosting;

namespace StreamsWorker;

/// <summary>The <c>WorkItems</c> configuration section.</summary>
public sealed class WorkItemsOptions
{
    public const string SectionName = "WorkItems";
    public const string DefaultStream = "work-items-stream";

    /// <summary>The stream to consume (<c>WorkItems:Stream</c>).</summary>
    public string Stream { get; set; } = DefaultStream;
}

public static class WorkerServices
{
    /// <summary>Everything the worker needs; shared by Program.cs and the tests.</summary>
    public static IServiceCollection AddWorkerServices(this IServiceCollection services, IConfiguration configuration)
    {
        var stream = configuration[$"{WorkItemsOptions.SectionName}:Stream"] ?? WorkItemsOptions.DefaultStream;
        services.AddOptions<WorkItemsOptions>().Bind(configuration.GetSection(WorkItemsOptions.SectionName));
        services.AddSingleton<IWorkItemProcessor, LoggingWorkItemProcessor>();

        services.AddRabbitStreams(configuration.GetSection("RabbitStreams"))
            .AddStream(stream, s => s.MaxAge = TimeSpan.FromDays(7))             // created at start (exists-ok)
            .AddConsumer<WorkItemHandler>();                                     // the [StreamConsumer] handler, on {WorkItems:Stream}
        services.AddHealthChecks().AddRabbitStreams();                           // connection and consumers
        return services;
    }
}
