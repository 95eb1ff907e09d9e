using Microsoft.Extensions.Logging;
using Streams.Hosting.Internal;

namespace Streams.Hosting.DeadLetters;

/// <summary>
/// <see cref="IStreamDeadLetterReplayer"/> of <c>AddRabbitStreams</c>: a <see cref="StreamDeadLetterReplayer"/> over the
/// application's connection (waiting for it), logging each replay's outcome.
/// </summary>
internal sealed class HostedDeadLetterReplayer(StreamSystemProvider systems, ILoggerFactory loggerFactory) : IStreamDeadLetterReplayer
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("Streams.Hosting.DeadLetters");

    public async Task<DeadLetterReplayResult> ReplayAsync(string deadLetterStream, DeadLetterReplayOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterStream);
        options ??= new DeadLetterReplayOptions();
        options.Validate();
        var system = await systems.GetAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var result = await new StreamDeadLetterReplayer(system).ReplayAsync(deadLetterStream, options, cancellationToken).ConfigureAwait(false);
            DeadLetterLog.Replayed(_logger, deadLetterStream, options.Mode, result.DryRun, result.Replayed, result.AlreadyReplayed, result.Filtered, result.FirstOffset, result.LastOffset);
            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            DeadLetterLog.ReplayFailed(_logger, deadLetterStream, options.Mode, ex);
            throw;
        }
    }
}
