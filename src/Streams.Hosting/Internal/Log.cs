using Microsoft.Extensions.Logging;

namespace Streams.Hosting.Internal;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Connecting to RabbitMQ Streams: {Options}")]
    public static partial void Connecting(ILogger logger, RabbitStreamsOptions options);

    [LoggerMessage(2, LogLevel.Information, "Stream '{Stream}' {Outcome}")]
    public static partial void StreamDeclared(ILogger logger, string stream, string outcome);

    [LoggerMessage(3, LogLevel.Debug, "Producer for stream '{Stream}' created (deduplication reference: {Reference})")]
    public static partial void ProducerCreated(ILogger logger, string stream, string? reference);

    [LoggerMessage(4, LogLevel.Warning, "Producer for stream '{Stream}' is closed; a new one will be created")]
    public static partial void ProducerReplaced(ILogger logger, string stream);

    [LoggerMessage(21, LogLevel.Warning, "The producer of stream {Stream} lost its connection; the client is recovering it")]
    public static partial void ProducerReconnecting(ILogger logger, string stream, Exception? exception);

    [LoggerMessage(5, LogLevel.Warning, "Disposing the producer for stream '{Stream}' failed")]
    public static partial void ProducerDisposeFailed(ILogger logger, string stream, Exception exception);

    [LoggerMessage(10, LogLevel.Information, "Consumer {Handler} subscribed to '{Stream}' (name: {Name}, start: {Offset})")]
    public static partial void ConsumerSubscribed(ILogger logger, string handler, string stream, string? name, string offset);

    [LoggerMessage(11, LogLevel.Warning, "Consumer {Handler} on '{Stream}' lost its subscription; subscribing again in {Delay}")]
    public static partial void ConsumerRecovering(ILogger logger, string handler, string stream, TimeSpan delay, Exception? exception);

    [LoggerMessage(12, LogLevel.Warning, "Consumer {Handler}: handling {Stream}@{Offset} failed (attempt {Attempt}); retrying in {Delay}")]
    public static partial void HandlerRetrying(ILogger logger, string handler, string stream, ulong offset, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(13, LogLevel.Error, "Consumer {Handler}: message {Stream}@{Offset} failed after {Attempts} attempt(s) and was skipped")]
    public static partial void MessageSkipped(ILogger logger, string handler, string stream, ulong offset, int attempts, Exception exception);

    [LoggerMessage(14, LogLevel.Error, "Consumer {Handler}: message {Stream}@{Offset} failed after {Attempts} attempt(s) and was dead-lettered to '{DeadLetterStream}'")]
    public static partial void MessageDeadLettered(ILogger logger, string handler, string stream, ulong offset, int attempts, string deadLetterStream, Exception exception);

    [LoggerMessage(15, LogLevel.Critical, "Consumer {Handler}: message {Stream}@{Offset} failed after {Attempts} attempt(s); the consumer is stopped by its failure policy (offset not committed past the last success)")]
    public static partial void ConsumerStoppedByPolicy(ILogger logger, string handler, string stream, ulong offset, int attempts, Exception exception);

    [LoggerMessage(16, LogLevel.Critical, "Consumer {Handler}: dead-lettering {Stream}@{Offset} to '{DeadLetterStream}' failed; the consumer is stopped so the message is not lost")]
    public static partial void DeadLetterFailed(ILogger logger, string handler, string stream, ulong offset, string deadLetterStream, Exception exception);

    [LoggerMessage(40, LogLevel.Critical, "Consumer {Handler}: message {Stream}@{Offset} cannot be handled: {Reason}; the consumer is stopped (the message is neither retried, skipped nor dead-lettered, and its offset is not stored)")]
    public static partial void ConsumerStoppedByInfrastructure(ILogger logger, string handler, string stream, ulong offset, string reason, Exception exception);

    [LoggerMessage(17, LogLevel.Debug, "Consumer {Name} on '{Stream}' stored offset {Offset}")]
    public static partial void OffsetStored(ILogger logger, string name, string stream, ulong offset);

    [LoggerMessage(18, LogLevel.Warning, "Consumer {Name} on '{Stream}': storing offset {Offset} failed")]
    public static partial void OffsetStoreFailed(ILogger logger, string name, string stream, ulong offset, Exception exception);

    [LoggerMessage(19, LogLevel.Information, "Consumer {Handler} on '{Stream}' stopped (last processed offset: {Offset})")]
    public static partial void ConsumerStopped(ILogger logger, string handler, string stream, ulong? offset);

    /// <remarks>Per dropped message: callers check <see cref="ILogger.IsEnabled"/> first, so a disabled Debug level costs no lookup.</remarks>
    [LoggerMessage(30, LogLevel.Debug, "Consumer {Handler}: message {Stream}@{Offset} dropped by the consumer's filter (filter value: {FilterValue}; wanted: {FilterValues}; match unfiltered: {MatchUnfiltered})", SkipEnabledCheck = true)]
    public static partial void MessageFiltered(ILogger logger, string handler, string stream, ulong offset, string? filterValue, string filterValues, bool matchUnfiltered);

    [LoggerMessage(20, LogLevel.Critical, "Consumer {Handler} on '{Stream}' failed and stopped")]
    public static partial void ConsumerFaulted(ILogger logger, string handler, string stream, Exception exception);
}
