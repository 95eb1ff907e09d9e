using System.Reflection;
using Xunit;

namespace Streams.Testing;

/// <summary>
/// The <c>Category</c> traits that split the suite: <c>./build.sh test --unit</c> runs what has none of
/// <see cref="Broker"/>, <see cref="Docker"/>, <see cref="Cluster"/>, <see cref="LocalBroker"/>, with no broker at all
/// (the broker URI then points at a closed port, so a broker test left untagged fails rather than passes unseen).
/// </summary>
public static class TestCategories
{
    /// <summary>Needs the RabbitMQ broker (every class of the broker, cluster and fault collections).</summary>
    public const string Broker = "Broker";

    /// <summary>Needs a Docker engine (Testcontainers).</summary>
    public const string Docker = "Docker";

    /// <summary>Drives the 3-node cluster.</summary>
    public const string Cluster = "Cluster";

    /// <summary>Drives the local broker script (closes every connection, restarts the node).</summary>
    public const string LocalBroker = "LocalBroker";

    /// <summary>The xunit collections whose tests share the broker fixture.</summary>
    private static readonly HashSet<string> BrokerCollections = ["broker", "cluster", "faults"];

    /// <summary>
    /// The test classes of <paramref name="assembly"/> in a broker collection (or taking a <see cref="BrokerFixture"/>)
    /// that lack <c>[Trait("Category", "Broker")]</c>: they would run, and fail, in the broker-free unit run.
    /// </summary>
    public static IReadOnlyList<string> UntaggedBrokerTests(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var untagged = new List<string>();
        foreach (var type in assembly.GetTypes().Where(t => t.IsClass && !t.IsAbstract))
        {
            var collection = type.GetCustomAttributes<CollectionAttribute>().FirstOrDefault();
            bool inBrokerCollection = collection?.Name is { } name && BrokerCollections.Contains(name);
            bool takesFixture = type.GetConstructors().Any(c => c.GetParameters().Any(p => p.ParameterType == typeof(BrokerFixture)));
            if (!inBrokerCollection && !takesFixture)
            {
                continue;
            }

            if (!type.GetCustomAttributes<TraitAttribute>().Any(t => t.Name == "Category" && t.Value == Broker))
            {
                untagged.Add(type.FullName ?? type.Name);
            }
        }

        return untagged;
    }
}
