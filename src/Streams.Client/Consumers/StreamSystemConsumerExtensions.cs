using Microsoft.Extensions.Logging;
using Streams.Client.Connections.Sharing;
using Streams.Client.Recovery;

namespace Streams.Client;

/// <summary>Creates consumers from a <see cref="StreamSystem"/>.</summary>
public static class StreamSystemConsumerExtensions
{
    /// <summary>
    /// Creates a consumer on a connection to a replica when there is one, else the leader (shared with up to
    /// <see cref="StreamSystemOptions.MaxConsumersPerConnection"/> consumers of this system), and subscribes.
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
        // A shared connection can die between being handed out and the entity's declaration on it (its node stopped):
        // take another one then, a few times; anything else, or a connection lost every time, goes to the caller.
        for (var attempt = 1; ; attempt++)
        {
            var connection = await system.AcquireConnectionAsync(ConnectionRole.Consumer, options.Stream, cancellationToken).ConfigureAwait(false);
            try
            {
                var logger = system.LoggerFactory.CreateLogger<Consumer>();
                var connector = new StreamSystemConnector(system, ConnectionRole.Consumer);
                return await Consumer.CreateAsync(connection, connector, options, system.Options.CompressionCodecs, logger, cancellationToken).ConfigureAwait(false);
            }
            catch (StreamConnectionClosedException) when (attempt < 3 && !cancellationToken.IsCancellationRequested)
            {
                await connection.ReleaseAsync().ConfigureAwait(false);
            }
            catch
            {
                await connection.ReleaseAsync().ConfigureAwait(false);
                throw;
            }
        }
    }
}
