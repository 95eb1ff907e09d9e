using Microsoft.Extensions.Logging.Abstractions;
using Streams.Client.Connections;
using Streams.Testing;

namespace Streams.Client.Tests.Connections;

internal static class TestConnections
{
    public static StreamConnectionSettings Settings(BrokerEndpoint endpoint, string? connectionName = null) => new()
    {
        Host = endpoint.Host,
        Port = endpoint.Port,
        UserName = endpoint.UserName,
        Password = endpoint.Password,
        VirtualHost = endpoint.VirtualHost,
        ConnectionName = connectionName ?? BrokerFixture.UniqueName("core-test"),
    };

    public static Task<StreamConnection> ConnectAsync(StreamConnectionSettings settings) =>
        StreamConnection.ConnectAsync(settings, NullLogger.Instance, TimeProvider.System, TestContext.Current.CancellationToken);

    public static Task<StreamConnection> ConnectAsync(BrokerEndpoint endpoint) => ConnectAsync(Settings(endpoint));
}
