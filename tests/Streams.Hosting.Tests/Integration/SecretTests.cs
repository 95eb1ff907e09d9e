using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Streams.Client;
using Streams.Hosting.Internal;
using Streams.Testing;

namespace Streams.Hosting.Tests.Integration;

internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    /// <summary>Every entry with its level and event id (<see cref="Lines"/> has the text only).</summary>
    public ConcurrentQueue<(LogLevel Level, int EventId, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            owner.Lines.Enqueue(message + " " + exception);
            owner.Entries.Enqueue((logLevel, eventId.Id, message));
        }
    }
}

[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class SecretTests(BrokerFixture broker)
{
    [Fact]
    public async Task Neither_logs_nor_errors_show_the_password()
    {
        const string Secret = "Wr0ng-S3cret-Value";
        var logs = new CapturingLoggerProvider();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Trace);
        builder.Services.AddRabbitStreams(o =>
        {
            o.ConnectionString = $"rabbitmq-stream://{broker.Endpoint.UserName}:{Secret}@{broker.Endpoint.Host}:{broker.Endpoint.Port}/";
        });
        using var host = builder.Build();
        var provider = host.Services.GetRequiredService<StreamSystemProvider>();
        var ex = await Assert.ThrowsAsync<AuthenticationFailureException>(() => provider.GetAsync(TestContext.Current.CancellationToken).AsTask());
        Assert.DoesNotContain(Secret, ex.ToString(), StringComparison.Ordinal);
        Assert.Contains(logs.Lines, l => l.Contains("Connecting to RabbitMQ Streams", StringComparison.Ordinal) && l.Contains(":***@", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, l => l.Contains(Secret, StringComparison.Ordinal));
    }
}
