// An ASP.NET Core web API on RabbitMQ Streams:
//   POST /orders       publishes an OrderPlaced event to the "orders" stream (202 once the broker confirmed it)
//   GET  /orders/{id}  serves the read model that a [StreamConsumer] projects from that stream (404 until projected)
//   GET  /health       connection and consumer health (the rabbitmq-streams health check)
// With the operator API key (Operations:ApiKey) in an X-Api-Key header, or as the password of HTTP Basic:
//   GET  /streams      status of every consumer (state, offsets, lag) and pooled producer, as JSON
//   GET  /streams/consumers/{name}, POST /streams/consumers/{name}/pause|resume|rewind?to=first|last|offset:N|timestamp:ISO
//   GET  /streams/ui   the live dashboard (the browser asks for the key: any user name, the key as the password)
// OpenTelemetry the standard way (AddOpenTelemetry): request, publish and handler spans and the metrics; exported to a
// collector by OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_SERVICE_NAME and the
// other standard OTEL_* variables apply).
// Run: dotnet run --project samples/WebApi -- --urls http://localhost:5080
// The broker comes from the RabbitStreams section (appsettings.json: localhost:5552, guest/guest).
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Streams.Hosting;
using WebApi.Operations;
using WebApi.Orders;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddControllers();
builder.Services.AddSingleton<OrderReadModel>();
builder.Services.AddSingleton<ConfirmationOutbox>();
builder.Services.AddOptions<OrdersOptions>().BindConfiguration(OrdersOptions.SectionName);

var ordersStream = builder.Configuration[$"{OrdersOptions.SectionName}:Stream"] ?? OrdersOptions.DefaultStream;
builder.Services.AddRabbitStreams(builder.Configuration.GetSection("RabbitStreams"))
    .AddStream(ordersStream, s => s.MaxAge = TimeSpan.FromDays(7))       // created at start (exists-ok)
    .AddConsumersFromAssemblyContaining<Program>();                      // every [StreamConsumer] class: OrderProjection, OrderConfirmationSender
builder.Services.AddHealthChecks().AddRabbitStreams();                 // Unhealthy when disconnected or a consumer faulted

// OpenTelemetry: the request span (ASP.NET Core), the publish's "send orders" span as its child, the handler's
// "process orders" span linked to it by the W3C trace context carried in the message, and the messaging metrics.
// The ASP.NET Core instrumentation matters for the publish too: without it the request still has an Activity, but an
// unsampled one, and the default ParentBased sampler drops every span under it - the send span included.
// The providers start and stop with the host (stopping flushes them).
var openTelemetry = builder.Services.AddOpenTelemetry()
    .WithTracing(tracing => tracing
        .AddAspNetCoreInstrumentation(o => o.Filter = http => !http.Request.Path.StartsWithSegments("/health"))
        .AddRabbitStreamsInstrumentation())                            // AddSource("Streams.Hosting")
    .WithMetrics(metrics => metrics
        .AddAspNetCoreInstrumentation()
        .AddRabbitStreamsInstrumentation());                           // AddMeter("Streams.Hosting")
if (builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] is { Length: > 0 })
{
    openTelemetry.UseOtlpExporter();                                   // traces, metrics and logs, configured by OTEL_*
}

// The operations endpoints can pause and replay message processing: never map them without authorization. Here an
// operator API key from configuration (Operations:ApiKey; the start fails without one, and refuses the development key
// of appsettings.Development.json outside Development).
builder.Services.AddOperatorApiKey(builder.Environment);

var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();
app.MapControllers();
app.MapHealthChecks("/health");
app.MapRabbitStreamsOperations("/streams").RequireAuthorization(OperatorApiKeyHandler.PolicyName);
app.MapRabbitStreamsDashboard("/streams/ui").RequireAuthorization(OperatorApiKeyHandler.PolicyName);
app.Run();

/// <summary>The entry point (public for <c>WebApplicationFactory&lt;Program&gt;</c> in the tests).</summary>
public partial class Program;
