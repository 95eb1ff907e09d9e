using Streams.Client;
using Xunit;

namespace Streams.Hosting.Testing.Containers;

/// <summary>
/// xunit v3 fixture for tests against a real RabbitMQ in Docker (<see cref="RabbitStreamsContainer"/>). However it is
/// used — <c>IClassFixture&lt;RabbitStreamsFixture&gt;</c>, a collection fixture (xunit wants the definition in the test
/// assembly: <c>[CollectionDefinition("RabbitStreams")] public sealed class RabbitStreamsCollection : ICollectionFixture&lt;RabbitStreamsFixture&gt;;</c>),
/// or <c>[assembly: AssemblyFixture(typeof(RabbitStreamsFixture))]</c> — all its instances in a test assembly share one
/// broker, started by the first and removed when the test process exits. Tests keep apart by using streams of their
/// own (<see cref="UniqueName"/>).
/// </summary>
/// <remarks>
/// Without a Docker engine the fixture fails every test that uses it with a <see cref="RabbitStreamsContainerException"/>
/// saying how to get a broker; it never skips.
/// </remarks>
public sealed class RabbitStreamsFixture : IAsyncLifetime
{
    private RabbitStreamsContainer? _container;

    /// <summary>The shared broker.</summary>
    public RabbitStreamsContainer Container => _container ?? throw new InvalidOperationException("The fixture is not initialized (xunit initializes it before the tests that use it).");

    /// <summary>The broker's stream connection string (through the mapped port).</summary>
    public string ConnectionString => Container.ConnectionString;

    /// <summary>Client options for the broker.</summary>
    public StreamSystemOptions CreateStreamSystemOptions() => Container.CreateStreamSystemOptions();

    /// <summary>A name unique to this run, e.g. for a stream: <c>{prefix}-{guid}</c>.</summary>
    /// <param name="prefix">A readable prefix.</param>
    public static string UniqueName(string prefix)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        return $"{prefix}-{Guid.NewGuid():N}";
    }

    /// <inheritdoc />
    public async ValueTask InitializeAsync() => _container = await SharedRabbitStreamsContainer.AcquireAsync().ConfigureAwait(false);

    /// <summary>Nothing to do: the broker is shared by the whole test process and removed when it exits.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
