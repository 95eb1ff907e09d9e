// An ASP.NET Core web API on RabbitMQ Streams:
//   POST /orders       publishes an OrderPlaced event to the "orders" stream (202 once the broker confirmed it)
//   GET  /orders/{id}  serves the read model that a [StreamConsumer] projects from that stream (404 until projected)
//   GET  /health       connection and consumer health (the rabbitmq-streams health check)
// Run: dotnet run --project samples/WebApi -- --urls http://localhost:5080
// The broker comes from the RabbitStreams section (appsettings.json: localhost:5552, guest/guest).
using Streams.Hosting;
using WebApi.Orders;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddControllers();
builder.Services.AddSingleton<OrderReadModel>();
builder.Services.AddOptions<OrdersOptions>().BindConfiguration(OrdersOptions.SectionName);

var ordersStream = builder.Configuration[$"{OrdersOptions.SectionName}:Stream"] ?? OrdersOptions.DefaultStream;
builder.Services.AddRabbitStreams(builder.Configuration.GetSection("RabbitStreams"))
    .AddStream(ordersStream, s => s.MaxAge = TimeSpan.FromDays(7))       // created at start (exists-ok)
    .AddConsumersFromAssemblyContaining<Program>()                       // every [StreamConsumer] class: OrderProjection
    .AddConsumer<OrderProjection>(c => c.Stream = ordersStream);         // ...on the configured stream
builder.Services.AddHealthChecks().AddRabbitStreams();                 // Unhealthy when disconnected or a consumer faulted

var app = builder.Build();
app.MapControllers();
app.MapHealthChecks("/health");
app.Run();

/// <summary>The entry point (public for <c>WebApplicationFactory&lt;Program&gt;</c> in the tests).</summary>
public partial class Program;
