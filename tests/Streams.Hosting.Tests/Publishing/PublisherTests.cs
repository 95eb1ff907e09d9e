using Microsoft.Extensions.DependencyInjection;

namespace Streams.Hosting.Tests.Publishing;

public sealed class PublisherTests
{
    [Fact]
    public async Task Unreachable_broker_surfaces_as_a_typed_publish_exception()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddRabbitStreams(o =>
        {
            o.Endpoints.Add(new RabbitStreamsEndpoint("127.0.0.1", 1));
            o.Publishing.Timeout = TimeSpan.FromSeconds(1);
        });
        await using var provider = services.BuildServiceProvider();
        var publisher = provider.GetRequiredService<IStreamPublisher>();
        var ex = await Assert.ThrowsAsync<StreamPublishException>(() => publisher.PublishAsync("orders", "x", TestContext.Current.CancellationToken));
        Assert.Equal("orders", ex.Stream);
        Assert.Contains("the broker is not reachable (127.0.0.1:1", ex.Message, StringComparison.Ordinal);
        Assert.NotNull(ex.InnerException);
    }

    [Fact]
    public async Task Arguments_are_validated()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddRabbitStreams(_ => { });
        await using var provider = services.BuildServiceProvider();
        var publisher = provider.GetRequiredService<IStreamPublisher>();
        await Assert.ThrowsAsync<ArgumentException>(() => publisher.PublishAsync(" ", "x", TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ArgumentNullException>(() => publisher.PublishAsync<string>("s", null!, TestContext.Current.CancellationToken));
    }
}
