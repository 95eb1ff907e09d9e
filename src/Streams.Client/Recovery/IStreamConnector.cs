using Streams.Client.Connections.Sharing;
using Streams.Client.Producers;

namespace Streams.Client.Recovery;

/// <summary>Finds a connection for a producer or consumer that recovers. Tests substitute a fake.</summary>
internal interface IStreamConnector
{
    /// <summary>
    /// Re-locates <paramref name="stream"/> through the Metadata command and returns operations on a connection to its
    /// leader (or, with <paramref name="preferReplica"/>, a replica when one exists). The caller releases them
    /// (<see cref="IStreamOperations.ReleaseAsync"/>) when it closes or moves on.
    /// </summary>
    /// <exception cref="StreamDoesNotExistException">The stream was deleted (terminal).</exception>
    Task<IStreamOperations> ConnectAsync(string stream, bool preferReplica, CancellationToken cancellationToken);
}

/// <summary>
/// The production connector: a lease from the <see cref="StreamSystem"/>'s connections of <paramref name="role"/>
/// (<see cref="StreamSystem.AcquireConnectionAsync"/>), so the entities of a lost connection recover onto shared
/// connections again. The role decides the node: the leader for producers, a replica when there is one for consumers.
/// </summary>
internal sealed class StreamSystemConnector(StreamSystem system, ConnectionRole role) : IStreamConnector
{
    public Task<IStreamOperations> ConnectAsync(string stream, bool preferReplica, CancellationToken cancellationToken)
    {
        if (preferReplica != (role == ConnectionRole.Consumer))
        {
            throw new ArgumentException($"{role} connections {(role == ConnectionRole.Consumer ? "prefer" : "never prefer")} replicas.", nameof(preferReplica));
        }

        return system.AcquireConnectionAsync(role, stream, cancellationToken);
    }
}
