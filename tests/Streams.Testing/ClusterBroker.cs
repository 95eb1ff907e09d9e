namespace Streams.Testing;

/// <summary>The three-node cluster of <c>scripts/rabbitmq.sh cluster up</c>: node N (1-3) has stream port 5560+N,
/// AMQP port 5680+N and management port 15680+N.</summary>
public static class ClusterBroker
{
    public static readonly int[] Nodes = [1, 2, 3];

    public static int StreamPort(int node) => 5560 + node;

    public static int AmqpPort(int node) => 5680 + node;

    public static Uri ManagementUri(int node) => new($"http://localhost:{15680 + node}");

    public static string NodeName(int node) => $"rabbit-c{node}@localhost";

    public static int NodeNumber(string nodeName) =>
        Array.Find(Nodes, n => NodeName(n) == nodeName) is var n and > 0
            ? n
            : throw new ArgumentException($"not a cluster node: {nodeName}", nameof(nodeName));

    /// <summary>Starts the cluster (idempotent; about 15 s from scratch).</summary>
    public static Task UpAsync(CancellationToken cancellationToken = default) =>
        BrokerScript.RunAsync("cluster up", TimeSpan.FromMinutes(4), cancellationToken);
}
