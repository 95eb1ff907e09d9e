using Streams.Client.Connections;
using Streams.Testing;

namespace Streams.Client.Tests.Connections;

[Collection(BrokerCollection.Name)]
public sealed class StreamConnectionTests(BrokerFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Handshake_negotiates_and_exposes_server_properties()
    {
        await using var connection = await TestConnections.ConnectAsync(fixture.Endpoint);

        Assert.True(connection.IsOpen);
        Assert.Equal("RabbitMQ", connection.ServerProperties["product"]);
        Assert.True(connection.ServerProperties.ContainsKey("version"));
        Assert.True(connection.ServerProperties.ContainsKey("cluster_name"));
        Assert.Equal(1_048_576, connection.FrameMax);
        Assert.Equal(TimeSpan.FromSeconds(60), connection.Heartbeat);
        Assert.True(connection.DeliverV2);
        Assert.True(connection.PublishV2);
        Assert.False(string.IsNullOrEmpty(connection.AdvertisedHost));
        Assert.Equal(5552, connection.AdvertisedPort);
    }

    [Fact]
    public async Task Handshake_uses_the_smaller_requested_frame_max_and_heartbeat()
    {
        var settings = TestConnections.Settings(fixture.Endpoint);
        settings = new StreamConnectionSettings
        {
            Host = settings.Host, Port = settings.Port, UserName = settings.UserName, Password = settings.Password,
            VirtualHost = settings.VirtualHost, RequestedFrameMax = 65536, RequestedHeartbeat = TimeSpan.FromSeconds(20),
        };
        await using var connection = await TestConnections.ConnectAsync(settings);

        Assert.Equal(65536, connection.FrameMax);
        Assert.Equal(TimeSpan.FromSeconds(20), connection.Heartbeat);
    }
}
