// An ASP.NET Core web API on RabbitMQ Streams:
//   POST /orders       publishes an OrderPlaced event to the "orders" stream (202 once the broker confirmed it)
//   GET  /orders/{id}  serves the read model that a [StreamConsumer] projects from that stream (404 until projected)
//   GET  /health       connection and consumer health (the rabbitmq-streams health check)
//   GET  /streams      status of every consumer (state, offsets, lag) and pooled producer, as JSON
// Traces and metrics go to an OpenTelemetry collector by OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set
// (OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_SERVICE_NAME and the other standard OTEL_* variables apply).
// Run: dotnet run --project samples/WebApi -- --urls http://localhost:5080
// The broker comes from the RabbitStreams section (appsettings.json: localhost:5552, guest/guest).
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Streams.Hosting;
using WebApi.Orders;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddControllers();
builder.Services.AddSingleton<OrderReadModel>();
builder.Services.AddOptions<OrdersOptions>().BindConfiguration(OrdersOptions.SectionName);

var ordersStream = builder.Configuration[$"{OrdersOptions.SectionName}:Stream"] ?? OrdersOptions.DefaultStream;
builder.Services.AddRabbitStreams(builder.Configuration.GetSection("RabbitStreams"))
    .AddStream(ordersStream, s => s.MaxAge = TimeSpan.FromDays(7))       // created at start (exists-ok)
    .AddConsumersFromAssemblyContaining<Program>();                      // every [StreamConsumer] class: OrderProjection on {Orders:Stream}
builder.Services.AddHealthChecks().AddRabbitStreams();                 // Unhealthy when disconnected or a consumer faulted

// OpenTelemetry: the publish ("send orders") and handler ("process orders") spans, linked by the W3C trace context
// carried in the messages, and the messaging metrics. Exported by OTLP, flushed when the application stops.
using var tracing = Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") is { Length: > 0 }
    ? Sdk.CreateTracerProviderBuilder().AddRabbitStreamsInstrumentation().AddOtlpExporter().Build()
    : null;
using var metrics = tracing is null
    ? null
    : Sdk.CreateMeterProviderBuilder().AddRabbitStreamsInstrumentation().AddOtlpExporter().Build();

var app = builder.Build();
app.MapControllers();
app.MapHealthChecks("/health");
app.MapRabbitStreams("/streams");
app.Run();

/// <summary>The entry point (public for <c>WebApplicationFactory&lt;Program&gt;</c> in the tests).</summary>
public partial class Program;
