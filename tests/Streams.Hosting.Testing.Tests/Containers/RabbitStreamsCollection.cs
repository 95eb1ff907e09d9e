using Streams.Hosting.Testing.Containers;

namespace Streams.Hosting.Testing.Tests.Containers;

/// <summary>The tests that share the container broker as a collection fixture (xunit wants the definition in the test assembly).</summary>
[CollectionDefinition(Name)]
public sealed class RabbitStreamsCollection : ICollectionFixture<RabbitStreamsFixture>
{
    public const string Name = "RabbitStreams";
}
