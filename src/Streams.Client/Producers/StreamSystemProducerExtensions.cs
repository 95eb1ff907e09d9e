using Microsoft.Extensions.Logging;
using Streams.Client.Connections.Sharing;
using Streams.Client.Producers;
using Streams.Client.Recovery;

namespace Streams.Client;

/// <summary>Creates producers from a <see cref="StreamSystem"/>.</summary>
public static class StreamSystemProducerExtensions
{
    /// <summary>
    /// Creates a producer on a connection to the stream's leader (shared with up to
    /// <see cref="StreamSystemOptions.MaxProducersPerConnection"/> producers of this system), declares it (with the deduplication reference
    /// when <see cref="ProducerOptions.Name"/> is set) and, for a named producer, resumes the publishing ids after the
    /// last stored one. The producer recovers from connection loss as <see cref="ProducerOptions.Recovery"/> says.
    /// </summary>
    /// <param name="system">The stream system.</param>
    /// <param name="options">The producer settings (validated).</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    /// <exception cref="StreamDoesNotExistException">The stream does not exist.</exception>
    /// <exception cref="StreamNotAvailableException">The stream has no available leader.</exception>
    public static async Task<Producer> CreateProducerAsync(this StreamSystem system, ProducerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        // A shared connection can die between being handed out and the entity's declaration on it (its node stopped):
        // take another one then, a few times; anything else, or a connection lost every time, goes to the caller.
        for (var attempt = 1; ; attempt++)
        {
            var connection = await system.AcquireConnectionAsync(ConnectionRole.Producer, options.Stream, cancellationToken).ConfigureAwait(false);
            try
            {
                var logger = system.LoggerFactory.CreateLogger<Producer>();
                var connector = new StreamSystemConnector(system, ConnectionRole.Producer);
                return await Producer.CreateAsync(connection, connector, options, system.Options.CompressionCodecs, logger, cancellationToken).ConfigureAwait(false);
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
