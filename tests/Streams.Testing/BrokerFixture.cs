using Xunit;

namespace Streams.Testing;

/// <summary>
/// Shared xunit fixture for tests that need the real broker. Fails (never skips) when none is reachable.
/// Use as <c>[Collection(BrokerCollection.Name)]</c> with a constructor parameter of this type.
/// </summary>
public sealed class BrokerFixture : IAsyncLifetime
{
    public BrokerEndpoint Endpoint { get; } = BrokerEndpoint.FromEnvironment();

    public async ValueTask InitializeAsync() => await Endpoint.EnsureReachableAsync().ConfigureAwait(false);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>A stream name unique to this test run.</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}";
}
