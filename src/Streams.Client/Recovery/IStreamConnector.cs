using Streams.Client.Producers;

namespace Streams.Client.Recovery;

/// <summary>Opens a new connection for a producer or consumer that recovers. Tests substitute a fake.</summary>
internal interface IStreamConnector
{
    /// <summary>
    /// Re-locates <paramref name="stream"/> through the Metadata command and connects to its leader (or, with
    /// <paramref name="preferReplica"/>, a replica when one exists). The caller owns the returned operations.
    /// </summary>
    /// <exception cref="StreamDoesNotExistException">The stream was deleted (terminal).</exception>
    Task<IStreamOperations> ConnectAsync(string stream, bool preferReplica, CancellationToken cancellationToken);
}

/// <summary>The production connector: <see cref="StreamSystem.OpenConnectionForStreamAsync"/> on a dedicated connection.</summary>
internal sealed class StreamSystemConnector(StreamSystem system, string role) : IStreamConnector
{
    public async Task<IStreamOperations> ConnectAsync(string stream, bool preferReplica, CancellationToken cancellationToken)
    {
        var connection = await system.OpenConnectionForStreamAsync(stream, preferReplica, role, cancellationToken).ConfigureAwait(false);
        return new StreamConnectionOperations(connection, ownsConnection: true);
    }
}
