using Microsoft.Extensions.Logging;
using Streams.Client.Producers;
using Streams.Client.Recovery;

namespace Streams.Client;

/// <summary>Creates consumers from a <see cref="StreamSystem"/>.</summary>
public static class StreamSystemConsumerExtensions
{
    /// <summary>
    /// Creates a consumer on its own connection (to a replica when there is one, else the leader) and subscribes.
    /// A named consumer with a stored offset resumes right after it (see <see cref="ConsumerOptions.ResumeFromStoredOffset"/>).
    /// The consumer recovers from connection loss as <see cref="ConsumerOptions.Recovery"/> says.
    /// </summary>
    /// <param name="system">The stream system.</param>
    /// <param name="options">The consumer settings (validated).</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    /// <exception cref="StreamDoesNotExistException">The stream does not exist.</exception>
    public static async Task<Consumer> CreateConsumerAsync(this StreamSystem system, ConsumerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var connection = await system.OpenConnectionForStreamAsync(options.Stream, preferReplica: true, "consumer", cancellationToken).ConfigureAwait(false);
        try
        {
            var logger = system.LoggerFactory.CreateLogger<Consumer>();
            var connector = new StreamSystemConnector(system, "consumer");
            return await Consumer.CreateAsync(new StreamConnectionOperations(connection, ownsConnection: true), connector, options, system.Options.CompressionCodecs, logger, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
