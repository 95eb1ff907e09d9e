using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;
using Streams.Client;

namespace Streams.Hosting.Testing.Containers;

/// <summary>
/// Ready when <see cref="StreamSystem.ConnectAsync"/> succeeds through the mapped stream port: a real PeerProperties,
/// SaslHandshake, SaslAuthenticate, Tune and Open exchange with the broker, as the tests' own clients will do. A TCP
/// connect alone proves nothing (Docker's proxy accepts connections before the broker listens), and a log line
/// depends on the image's logging.
/// </summary>
internal sealed class StreamHandshakeWait(Func<StreamSystemOptions> options) : IWaitUntil
{
    /// <summary>Why the last attempt failed (for the start failure's message).</summary>
    public Exception? LastFailure { get; private set; }

    public async Task<bool> UntilAsync(IContainer container)
    {
        var attempt = options();
        attempt.ConnectTimeout = TimeSpan.FromSeconds(5);
        attempt.RequestTimeout = TimeSpan.FromSeconds(5);
        try
        {
            var system = await StreamSystem.ConnectAsync(attempt, CancellationToken.None).ConfigureAwait(false);
            await system.DisposeAsync().ConfigureAwait(false);
            LastFailure = null;
            return true;
        }
        catch (Exception ex) when (ex is StreamClientException or IOException or System.Net.Sockets.SocketException or TimeoutException)
        {
            // Not ready yet: the broker is booting (connection refused or reset by Docker's proxy, or the user not created yet).
            LastFailure = ex;
            return false;
        }
    }
}
