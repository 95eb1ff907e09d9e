using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Streams.Client.Tests.Connections;

/// <summary>
/// A minimal TCP load balancer for tests: listens on a loopback port and forwards each accepted connection to the
/// next backend port in round-robin order, remembering where every connection went and whether it is still open.
/// </summary>
internal sealed class RoundRobinProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int[] _backends;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<Task> _pumps = new();
    private readonly Task _acceptLoop;
    private int _next;

    public RoundRobinProxy(params int[] backendPorts)
    {
        _backends = backendPorts;
        _listener.Start();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Every proxied connection, in accept order.</summary>
    public ConcurrentQueue<ProxiedConnection> Connections { get; } = new();

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            var backend = _backends[(Interlocked.Increment(ref _next) - 1) % _backends.Length];
            var record = new ProxiedConnection(backend);
            Connections.Enqueue(record);
            _pumps.Enqueue(Task.Run(() => PumpAsync(client, record)));
        }
    }

    private async Task PumpAsync(TcpClient client, ProxiedConnection record)
    {
        using var upstream = new TcpClient { NoDelay = true };
        using (client)
        {
            try
            {
                client.NoDelay = true;
                await upstream.ConnectAsync(IPAddress.Loopback, record.BackendPort, _stop.Token);
                var a = client.GetStream();
                var b = upstream.GetStream();
                var first = await Task.WhenAny(a.CopyToAsync(b, _stop.Token), b.CopyToAsync(a, _stop.Token));
                await first.ContinueWith(_ => { }, TaskScheduler.Default);
            }
            catch (Exception)
            {
                // a closed side ends the pair
            }
            finally
            {
                record.Closed = true;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _acceptLoop.ContinueWith(_ => { }, TaskScheduler.Default);
        await Task.WhenAll(_pumps).ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    internal sealed class ProxiedConnection(int backendPort)
    {
        public int BackendPort { get; } = backendPort;

        private int _closed;

        public bool Closed
        {
            get => Volatile.Read(ref _closed) != 0;
            set => Volatile.Write(ref _closed, value ? 1 : 0);
        }
    }
}
