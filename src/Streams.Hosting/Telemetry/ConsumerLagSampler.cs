using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streams.Hosting.Internal;

namespace Streams.Hosting.Telemetry;

/// <summary>
/// Measures the lag of every hosted consumer every <see cref="StreamsTelemetryOptions.LagSamplingInterval"/>: the
/// first offset of the stream's last chunk (from the stream statistics) minus the last offset processed.
/// </summary>
internal sealed partial class ConsumerLagSampler : BackgroundService
{
    private readonly StreamsInstrumentation _instrumentation;
    private readonly Streams.Hosting.Internal.Backend.IStreamsBackend _backend;
    private readonly IOptions<RabbitStreamsOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public ConsumerLagSampler(StreamsInstrumentation instrumentation, Streams.Hosting.Internal.Backend.IStreamsBackend backend, IOptions<RabbitStreamsOptions> options, TimeProvider time, ILoggerFactory loggerFactory)
    {
        _instrumentation = instrumentation;
        _backend = backend;
        _options = options;
        _time = time;
        _logger = loggerFactory.CreateLogger("Streams.Hosting.Telemetry");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = _instrumentation.Options.LagSamplingInterval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            using var timer = new PeriodicTimer(interval, _time);
            do
            {
                await SampleAsync(stoppingToken).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host stopping.
        }
    }

    /// <summary>Measures every consumer once (consumers reading the same stream share one statistics request).</summary>
    internal async Task SampleAsync(CancellationToken cancellationToken)
    {
        var consumers = _instrumentation.Consumers.ToArray();
        if (consumers.Length == 0)
        {
            return;
        }

        foreach (var group in consumers.GroupBy(c => c.Source, StringComparer.Ordinal))
        {
            ulong? lastChunkId;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(_options.Value.RequestTimeout);
                lastChunkId = await _backend.QueryLastChunkIdAsync(group.Key, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LagSamplingFailed(_logger, group.Key, ex);
                continue;
            }

            foreach (var consumer in group)
            {
                if (Compute(lastChunkId, consumer.GetStatus(), consumer.FirstSeenOffset) is { } lag)
                {
                    consumer.SetLag(lag);
                }
            }
        }
    }

    internal static long? Compute(ulong? lastChunkId, StreamConsumerStatus status, ulong? firstSeen)
    {
        if (lastChunkId is not { } last)
        {
            return 0; // Empty stream.
        }

        if ((status.LastProcessedOffset ?? status.LastStoredOffset) is { } processed)
        {
            return last > processed ? (long)(last - processed) : 0;
        }

        if (firstSeen is { } first)
        {
            // Nothing processed yet: everything from the first message handed to the handler on.
            return last >= first ? (long)(last - first) + 1 : 0;
        }

        return null;
    }

    [LoggerMessage(100, LogLevel.Debug, "Measuring the consumer lag on stream '{Stream}' failed")]
    private static partial void LagSamplingFailed(ILogger logger, string stream, Exception exception);
}
