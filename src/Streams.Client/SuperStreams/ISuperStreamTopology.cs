namespace Streams.Client;

/// <summary>
/// Where a super stream's partitions and bindings are read from: a <see cref="StreamSystem"/>, or another source of
/// the same answers (an application's own broker seam, a test double). <see cref="SuperStreamRouter"/> and
/// <see cref="SuperStreamPartitionWatcher"/> work over it.
/// </summary>
public interface ISuperStreamTopology
{
    /// <summary>The partitions of a super stream, in <c>x-stream-partition-order</c> (empty when it does not exist).</summary>
    /// <param name="superStream">The super stream name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    Task<IReadOnlyList<string>> QueryPartitionsAsync(string superStream, CancellationToken cancellationToken = default);

    /// <summary>The partitions bound to a routing key (empty when none).</summary>
    /// <param name="routingKey">The routing key.</param>
    /// <param name="superStream">The super stream name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    Task<IReadOnlyList<string>> QueryRouteAsync(string routingKey, string superStream, CancellationToken cancellationToken = default);
}
