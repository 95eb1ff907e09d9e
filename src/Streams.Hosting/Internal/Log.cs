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

    [LoggerMessage(22, LogLevel.Warning, "Consumer {Handler} on '{Stream}' lost its connection; the client is recovering the subscription (resuming after the last delivered offset)")]
    public static partial void ConsumerClientRecovering(ILogger logger, string handler, string stream, Exception? exception);

    [LoggerMessage(23, LogLevel.Warning, "RabbitMQ Streams ({Endpoints}) is not reachable at start; the host starts and connects in the background: {Error}")]
    public static partial void ConnectingInBackground(ILogger logger, string endpoints, string? error);

    [LoggerMessage(24, LogLevel.Warning, "Connecting to RabbitMQ Streams ({Endpoints}) failed (attempt {Attempt}); trying again in {Delay}: {Error}")]
    public static partial void ConnectAttemptFailed(ILogger logger, string endpoints, int attempt, TimeSpan delay, string error);

    [LoggerMessage(25, LogLevel.Information, "Connected to RabbitMQ Streams ({Endpoints}) after {Attempts} attempts")]
    public static partial void Connected(ILogger logger, string endpoints, int attempts);

    [LoggerMessage(26, LogLevel.Critical, "RabbitMQ Streams ({Endpoints}): gave up connecting (an error retrying cannot fix, or RabbitStreams:Recovery:MaxAttempts ran out); the health check reports it until the settings are fixed and the application restarted")]
    public static partial void ConnectFaulted(ILogger logger, string endpoints, Exception exception);

    [LoggerMessage(27, LogLevel.Warning, "Consumer {Handler}: stream '{Stream}' does not exist yet; waiting for it (next check in {Delay})")]
    public static partial void WaitingForStream(ILogger logger, string handler, string stream, TimeSpan delay);

    [LoggerMessage(28, LogLevel.Critical, "Declaring the streams failed; the consumers do not start")]
    public static partial void TopologyFaulted(ILogger logger, Exception exception);

    [LoggerMessage(29, LogLevel.Warning, "Declaring the streams failed (attempt {Attempt}); trying again in {Delay}")]
    public static partial void TopologyRetrying(ILogger logger, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(31, LogLevel.Information, "Consumer {Handler} on '{Stream}': the client recovered the subscription")]
    public static partial void ConsumerClientRecovered(ILogger logger, string handler, string stream);

    [LoggerMessage(60, LogLevel.Information, "Consumer {Name} on '{Stream}' paused (last processed offset: {Offset})")]
    public static partial void ConsumerPaused(ILogger logger, string name, string stream, ulong? offset);

    [LoggerMessage(61, LogLevel.Information, "Consumer {Name} on '{Stream}' resumed (after offset {Offset})")]
    public static partial void ConsumerResumed(ILogger logger, string name, string stream, ulong? offset);

    [LoggerMessage(62, LogLevel.Information, "Consumer {Name} on '{Stream}' is not started (AutoStart is off); it waits for IStreamConsumerControl.ResumeAsync")]
    public static partial void ConsumerNotStarted(ILogger logger, string name, string stream);

    [LoggerMessage(63, LogLevel.Warning, "Consumer {Name} on '{Stream}' rewound to {Target}: next offset {Next}, stored offset {Stored} (was {Previous})")]
    public static partial void ConsumerRewound(ILogger logger, string name, string stream, string target, ulong next, ulong? stored, ulong? previous);

    [LoggerMessage(64, LogLevel.Warning, "Consumer {Name} on '{Stream}': the stored offset was set to {Stored} elsewhere (this instance stored {Previous}): subscribing again after it")]
    public static partial void StoredOffsetChanged(ILogger logger, string name, string stream, ulong stored, ulong previous);
}
