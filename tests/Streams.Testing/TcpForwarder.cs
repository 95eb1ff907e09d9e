using System.Net;
using System.Net.Sockets;

namespace Streams.Testing;

/// <summary>
/// Forwards the TCP connections accepted on a loopback port to a backend (e.g. the broker), so a test can point an
/// application at a port with nothing behind it and "start the broker" later by starting a forwarder on that port.
/// </summary>
public sealed class TcpForwarder : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly string _backendHost;
    private readonly int _backendPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _pumps = [];
    private readonly Task _acceptLoop;
    private int _accepted;

    /// <summary>Listens on <paramref name="port"/> (loopback) and forwards to <paramref name="backendHost"/>:<paramref name="backendPort"/>.</summary>
    public TcpForwarder(int port, string backendHost, int backendPort)
    {
        _backendHost = backendHost;
        _backendPort = backendPort;
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The port listened on.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>How many connections were accepted (and forwarded) so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>A loopback port with nothing listening on it right now (connections to it are refused).</summary>
    public static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            lock (_pumps)
            {
                _pumps.Add(Task.Run(() => PumpAsync(client)));
            }
        }
    }

    private async Task PumpAsync(TcpClient client)
    {
        using var upstream = new TcpClient { NoDelay = true };
        using (client)
        {
            try
            {
                client.NoDelay = true;
                await upstream.ConnectAsync(_backendHost, _backendPort, _stop.Token).ConfigureAwait(false);
                var a = client.GetStream();
                var b = upstream.GetStream();
                await Task.WhenAny(a.CopyToAsync(b, _stop.Token), b.CopyToAsync(a, _stop.Token)).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // A closed side ends the pair.
            }
        }
    }

    /// <summary>Stops listening and closes every forwarded connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        await _acceptLoop.ConfigureAwait(false);
        Task[] pumps;
        lock (_pumps)
        {
            pumps = [.. _pumps];
        }

        await Task.WhenAll(pumps).ConfigureAwait(false);
        _stop.Dispose();
    }
}
