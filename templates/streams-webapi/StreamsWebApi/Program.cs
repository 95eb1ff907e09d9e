using StreamsWebApi;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddApiServices(builder.Configuration);

var app = builder.Build();
app.MapItems();                  // POST /items: publishes to the stream, 202 once the broker confirmed it
app.MapHealthChecks("/health");  // the broker connection and the consumers
app.Run();

/// <summary>The entry point (public for <c>WebApplicationFactory&lt;Program&gt;</c> in the tests).</summary>
public partial class Program;
