using Streams.Testing;

namespace Streams.Hosting.AspNetCore.Tests;

/// <summary>The xunit collection of tests that share the broker fixture (xunit wants it in the test assembly).</summary>
[CollectionDefinition(Name)]
public sealed class BrokerCollection : ICollectionFixture<BrokerFixture>
{
    public const string Name = "broker";
}
