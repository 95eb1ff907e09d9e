using Streams.Testing;

namespace Streams.Cli.Tests;

/// <summary>Every broker test of this assembly is tagged, so the broker-free unit run (`./build.sh test --unit`) leaves it out.</summary>
public sealed class TestCategoryTests
{
    [Fact]
    public void Every_test_class_that_needs_the_broker_is_tagged_Category_Broker() =>
        Assert.Empty(TestCategories.UntaggedBrokerTests(typeof(TestCategoryTests).Assembly));
}
