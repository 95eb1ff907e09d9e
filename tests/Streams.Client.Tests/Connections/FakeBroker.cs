using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Streams.Client.Tests.Protocol;

namespace Streams.Client.Tests.Connections;

/// <summary>
/// A scripted loopback peer speaking just enough of the protocol to complete a handshake; afterwards the test
/// reads client frames from <see cref="Received"/> and sends raw frames with <see cref="SendAsync"/>.
/// </summary>
internal sealed class FakeBroker : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly uint _frameMax;
    private readonly uint _heartbeat;
    private TcpClient? _client;
    private NetworkStream? _stream;
    private readonly Task? _loop;

    public FakeBroker(uint frameMax = 1_048_576, uint heartbeat = 0)
    {
        _frameMax = frameMax;
        _heartbeat = heartbeat;
        _listener.Start();
        _loop = Task.Run(RunAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Frames (without size prefix) the client sent after the handshake.</summary>
    public Channel<byte[]> Received { get; } = Channel.CreateUnbounded<byte[]>();

    public TaskCompletionSource HandshakeDone { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task RunAsync()
    {
        try
        {
            _client = await _listener.AcceptTcpClientAsync();
            _stream = _client.GetStream();
            var header = new byte[4];
            while (true)
            {
                await _stream.ReadExactlyAsync(header);
                var body = new byte[BinaryPrimitives.ReadUInt32BigEndian(header)];
                await _stream.ReadExactlyAsync(body);
                var key = BinaryPrimitives.ReadUInt16BigEndian(body);
                var corr = body.Length >= 8 ? Hex.Format(body.AsSpan(4, 4)) : string.Empty;
                switch (key)
                {
                    case 0x11:
                        await SendAsync($"80 11 00 01 {corr} 00 01 00 00 00 01 00 07 \"version\" 00 05 \"4.0.5\"");
                        break;
                    case 0x12:
                        await SendAsync($"80 12 00 01 {corr} 00 01 00 00 00 01 00 05 \"PLAIN\"");
                        break;
                    case 0x13:
                        await SendAsync($"80 13 00 01 {corr} 00 01");
                        await SendAsync($"00 14 00 01 {_frameMax:x8} {_heartbeat:x8}");
                        break;
                    case 0x8014:
                        break;
                    case 0x16:
                        await SendAsync($"80 16 00 01 {corr} 00 01");
                        break;
                    case 0x15:
                        await SendAsync($"80 15 00 01 {corr} 00 01");
                        break;
                    case 0x1b:
                        await SendAsync($"80 1b 00 01 {corr} 00 01 00 00 00 01 00 02 00 01 00 02");
                        HandshakeDone.TrySetResult();
                        break;
                    default:
                        await Received.Writer.WriteAsync(body);
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or EndOfStreamException or ObjectDisposedException or SocketException or OperationCanceledException)
        {
            Received.Writer.TryComplete();
        }
    }

    /// <summary>Sends a frame given as hex (without the size prefix, which is added).</summary>
    public Task SendAsync(string bodyHex) => SendRawAsync(Frame(Hex.Parse(bodyHex)));

    public static byte[] Frame(byte[] body)
    {
        var frame = new byte[body.Length + 4];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)body.Length);
        body.CopyTo(frame, 4);
        return frame;
    }

    public async Task SendRawAsync(byte[] bytes, int chunkSize = int.MaxValue)
    {
        for (var offset = 0; offset < bytes.Length; offset += chunkSize)
        {
            await _stream!.WriteAsync(bytes.AsMemory(offset, Math.Min(chunkSize, bytes.Length - offset)));
            await _stream.FlushAsync();
        }
    }

    /// <summary>Next client frame whose key is not a heartbeat.</summary>
    public async Task<byte[]> NextAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            var frame = await Received.Reader.ReadAsync(cts.Token);
            if (BinaryPrimitives.ReadUInt16BigEndian(frame) != 0x17)
            {
                return frame;
            }
        }
    }

    public void DropConnection()
    {
        var client = _client;
        if (client?.Client is { } socket)
        {
            socket.Close(0);
        }

        client?.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        DropConnection();
        if (_loop is not null)
        {
            await _loop;
        }
    }
}
