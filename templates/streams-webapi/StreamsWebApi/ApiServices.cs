using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Streams.Hosting;

namespace StreamsWebApi;

/// <summary>The <c>Items</c> configuration section.</summary>
public sealed class ItemsOptions
{
    public const string SectionName = "Items";
    public const string DefaultStream = "submitted-items-stream";

    /// <summary>The stream the API publishes to and the handler consumes (<c>Items:Stream</c>).</summary>
    public string Stream { get; set; } = DefaultStream;
}

public static class ApiServices
{
    /// <summary>Everything the API needs; Program.cs calls it, and so do the tests through <c>WebApplicationFactory</c>.</summary>
    public static IServiceCollection AddApiServices(this IServiceCollection services, IConfiguration configuration)
    {
        var stream = configuration[$"{ItemsOptions.SectionName}:Stream"] ?? ItemsOptions.DefaultStream;
        services.AddOptions<ItemsOptions>().Bind(configuration.GetSection(ItemsOptions.SectionName));
        services.AddSingleton<IItemProcessor, LoggingItemProcessor>();
        services.TryAddSingleton(TimeProvider.System);

        services.AddRabbitStreams(configuration.GetSection("RabbitStreams"))
            .AddStream(stream, s => s.MaxAge = TimeSpan.FromDays(7))             // created at start (exists-ok)
            .AddConsumer<ItemSubmittedHandler>();                                // the [StreamConsumer] handler, on {Items:Stream}
        services.AddHealthChecks().AddRabbitStreams();                           // connection, publishing and consumers

        // OpenTelemetry: the request span (ASP.NET Core), the publish's "send" span as its child, the handler's "process"
        // span linked to it (the trace context travels in the message), and the messaging metrics. Without the ASP.NET
        // Core instrumentation the request's Activity is not sampled and the publish inside it records no send span.
        var openTelemetry = services.AddOpenTelemetry()
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(o => o.Filter = http => !http.Request.Path.StartsWithSegments("/health"))
                .AddRabbitStreamsInstrumentation())
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddRabbitStreamsInstrumentation());
        if (configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] is { Length: > 0 })
        {
            openTelemetry.UseOtlpExporter();                                     // traces, metrics and logs; the OTEL_* variables apply
        }

        return services;
    }
}
