using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Streams.Client.Tests.Hostile;

/// <summary>Keeps every log entry (level, event id, message) so a test can assert that a failure was reported.</summary>
internal sealed class CapturingLoggerFactory : ILoggerFactory
{
    public ConcurrentQueue<(LogLevel Level, int EventId, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    public bool Has(LogLevel atLeast, string fragment) =>
        Entries.Any(e => e.Level >= atLeast && e.Message.Contains(fragment, StringComparison.OrdinalIgnoreCase));

    public string Dump() => string.Join(Environment.NewLine, Entries.Select(e => $"{e.Level} {e.EventId}: {e.Message}"));

    private sealed class Logger(CapturingLoggerFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue((logLevel, eventId.Id, formatter(state, exception)));
    }
}
