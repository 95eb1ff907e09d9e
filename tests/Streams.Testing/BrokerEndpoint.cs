using System.Net.Sockets;

namespace Streams.Testing;

/// <summary>
/// The broker the tests talk to: <c>RABBITMQ_STREAM_URI</c> (rabbitmq-stream://user:pass@host:port/vhost)
/// or, when unset, <c>rabbitmq-stream://guest:guest@localhost:5552/%2f</c>.
/// Management API: <c>RABBITMQ_MANAGEMENT_URI</c> or http://localhost:15672.
/// </summary>
public sealed record BrokerEndpoint(string Host, int Port, string UserName, string Password, string VirtualHost, Uri ManagementUri)
{
    public const string UriVariable = "RABBITMQ_STREAM_URI";
    public const string ManagementUriVariable = "RABBITMQ_MANAGEMENT_URI";

    public static BrokerEndpoint FromEnvironment()
    {
        var raw = Environment.GetEnvironmentVariable(UriVariable);
        var uri = new Uri(string.IsNullOrWhiteSpace(raw) ? "rabbitmq-stream://guest:guest@localhost:5552/%2f" : raw);
        var user = "guest";
        var pass = "guest";
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var parts = uri.UserInfo.Split(':', 2);
            user = Uri.UnescapeDataString(parts[0]);
            pass = parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : string.Empty;
        }

        var vhost = uri.AbsolutePath.Length <= 1 ? "/" : Uri.UnescapeDataString(uri.AbsolutePath[1..]);
        var mgmt = Environment.GetEnvironmentVariable(ManagementUriVariable);
        var host = uri.Host == "localhost" ? "localhost" : uri.Host;
        return new BrokerEndpoint(host, uri.Port > 0 ? uri.Port : 5552, user, pass, vhost,
            new Uri(string.IsNullOrWhiteSpace(mgmt) ? $"http://{host}:15672" : mgmt));
    }

    /// <summary>Throws a clear <see cref="InvalidOperationException"/> when nothing listens on the stream port.</summary>
    public async Task EnsureReachableAsync(CancellationToken cancellationToken = default)
    {
        using var client = new TcpClient();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await client.ConnectAsync(Host, Port, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            throw new InvalidOperationException(
                $"No RabbitMQ stream broker is reachable at {Host}:{Port} ({ex.Message}). " +
                $"Start one with `scripts/rabbitmq.sh up`, or point {UriVariable} at an existing broker " +
                "(rabbitmq-stream://user:pass@host:port/vhost). Broker tests never skip silently.", ex);
        }
    }
}
