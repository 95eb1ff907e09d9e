using Streams.Hosting.Testing.Containers;

namespace Streams.Hosting.Testing.Tests.Containers;

/// <summary>
/// Class and collection fixtures (and any other fixture instance) share one broker per test assembly. No assembly fixture
/// here: its failure would fail every test of the assembly, the Docker-free ones too.
/// </summary>
[Trait("Category", "Docker")]
public sealed class ClassFixtureSharingTests(RabbitStreamsFixture classFixture) : IClassFixture<RabbitStreamsFixture>
{
    [Fact]
    public async Task A_class_fixture_gets_the_broker_of_the_assembly()
    {
        Assert.Same(await FixtureSharing.OtherFixtureContainerAsync(), classFixture.Container);
    }
}

[Trait("Category", "Docker")]
[Collection(RabbitStreamsCollection.Name)]
public sealed class CollectionFixtureSharingTests(RabbitStreamsFixture collectionFixture)
{
    [Fact]
    public async Task A_collection_fixture_gets_the_broker_of_the_assembly()
    {
        Assert.Same(await FixtureSharing.OtherFixtureContainerAsync(), collectionFixture.Container);
    }
}

internal static class FixtureSharing
{
    /// <summary>A fixture of its own, initialized as xunit would: it must not start a second broker.</summary>
    public static async Task<RabbitStreamsContainer> OtherFixtureContainerAsync()
    {
        await using var other = new RabbitStreamsFixture();
        await other.InitializeAsync();
        return other.Container;
    }
}
