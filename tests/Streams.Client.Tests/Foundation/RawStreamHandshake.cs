using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Streams.Client.Tests.Foundation;

/// <summary>
/// A hand-rolled stream-protocol handshake (PeerProperties, SASL PLAIN, Tune, Open) used by the broker
/// script's own tests, independent of the client under test.
/// </summary>
internal sealed class RawStreamHandshake : IDisposable
{
    private readonly TcpClient _tcp = new();
    private Stream? _stream;

    public Stream Stream => _stream ?? throw new InvalidOperationException("not connected");

    /// <summary>Opens a connection; <paramref name="wrap"/> may turn the socket stream into a TLS stream;
    /// a null <paramref name="user"/> authenticates with SASL EXTERNAL (the TLS client certificate).</summary>
    public async Task OpenAsync(string host, int port, string? user, string password, string vhost, string connectionName, CancellationToken ct,
        Func<Stream, Task<Stream>>? wrap = null)
    {
        await _tcp.ConnectAsync(host, port, ct);
        _stream = wrap is null ? _tcp.GetStream() : await wrap(_tcp.GetStream());
        var props = new List<byte>();
        Int32(props, 1);
        Str(props, "connection_name");
        Str(props, connectionName);
        await RequestAsync(0x11, 1, props, ct);
        await RequestAsync(0x12, 2, [], ct);
        var sasl = new List<byte>();
        Str(sasl, user is null ? "EXTERNAL" : "PLAIN");
        var data = user is null ? [] : Encoding.UTF8.GetBytes($"\0{user}\0{password}");
        Int32(sasl, data.Length);
        sasl.AddRange(data);
        await RequestAsync(0x13, 3, sasl, ct);
        var tune = await ReadFrameAsync(ct);
        Assert.Equal(0x0014, BinaryPrimitives.ReadUInt16BigEndian(tune));
        tune[0] = 0x80; // reply with key 0x8014 and the same fields
        await WriteFrameAsync(tune, ct);
        var open = new List<byte>();
        Str(open, vhost);
        await RequestAsync(0x15, 4, open, ct);
    }

    /// <summary>Reads until the broker closes the socket; true when it did within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForRemoteCloseAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                if (await Stream.ReadAsync(buffer, cts.Token) == 0)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public void Dispose()
    {
        _stream?.Dispose();
        _tcp.Dispose();
    }

    private async Task RequestAsync(ushort key, uint correlationId, List<byte> fields, CancellationToken ct)
    {
        var body = new byte[8 + fields.Count];
        BinaryPrimitives.WriteUInt16BigEndian(body, key);
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(2), 1);
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(4), correlationId);
        fields.CopyTo(body, 8);
        await WriteFrameAsync(body, ct);
        var response = await ReadFrameAsync(ct);
        Assert.Equal(key | 0x8000, BinaryPrimitives.ReadUInt16BigEndian(response));
        Assert.Equal(correlationId, BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(4)));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16BigEndian(response.AsSpan(8)));
    }

    private async Task WriteFrameAsync(byte[] body, CancellationToken ct)
    {
        // One write per frame: RabbitMQ 4.0.5 drops a connection whose first frame arrives split after the size.
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)body.Length);
        body.CopyTo(frame, 4);
        await Stream.WriteAsync(frame, ct);
    }

    private async Task<byte[]> ReadFrameAsync(CancellationToken ct)
    {
        var size = new byte[4];
        await Stream.ReadExactlyAsync(size, ct);
        var body = new byte[BinaryPrimitives.ReadUInt32BigEndian(size)];
        await Stream.ReadExactlyAsync(body, ct);
        return body;
    }

    private static void Int32(List<byte> to, int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(b, value);
        to.AddRange(b);
    }

    private static void Str(List<byte> to, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        to.Add((byte)(bytes.Length >> 8));
        to.Add((byte)bytes.Length);
        to.AddRange(bytes);
    }
}
