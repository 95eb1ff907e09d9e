using Streams.Hosting.Internal;

namespace Streams.Hosting.DeadLetters;

/// <summary><see cref="IStreamDeadLetterReplayer"/> of <c>AddRabbitStreams</c>: a <see cref="StreamDeadLetterReplayer"/> over the application's connection (waiting for it).</summary>
internal sealed class HostedDeadLetterReplayer(StreamSystemProvider systems) : IStreamDeadLetterReplayer
{
    public async Task<DeadLetterReplayResult> ReplayAsync(string deadLetterStream, DeadLetterReplayOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterStream);
        options?.Validate();
        var system = await systems.GetAsync(cancellationToken).ConfigureAwait(false);
        return await new StreamDeadLetterReplayer(system).ReplayAsync(deadLetterStream, options, cancellationToken).ConfigureAwait(false);
    }
}
