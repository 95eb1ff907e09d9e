namespace Streams.Testing;

/// <summary>The xunit collection of tests that share the broker fixture (xunit wants it in the test assembly).</summary>
[CollectionDefinition(Name)]
public sealed class BrokerCollection : ICollectionFixture<BrokerFixture>
{
    public const string Name = "broker";
}

/// <summary>
/// Tests that drive the 3-node cluster (stop nodes, move leaders) run one at a time in this collection, so one
/// test's node stop never lands in the middle of another's; they still run beside the single-node tests.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<BrokerFixture>
{
    public const string Name = "cluster";
}
