using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace Streams.Client.Tests.Hostile;

/// <summary>
/// A scripted loopback stream-protocol server for what a real broker never does. It accepts any number of connections,
/// completes the handshake, answers Metadata (pointing at itself), Subscribe, QueryOffset, DeclarePublisher, Publish and
/// the rest like a well-behaved broker, and lets a test take over any frame (<see cref="Intercept"/>) or act when a
/// subscription or publisher appears (<see cref="Sessions"/>, <see cref="HostileSession.Subscribed"/>).
/// </summary>
internal sealed class HostileBroker : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<HostileSession> _all = [];
    private readonly Task _accept;

    public HostileBroker(uint heartbeatSeconds = 0)
    {
        HeartbeatSeconds = heartbeatSeconds;
        _listener.Start();
        _accept = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Uri => $"rabbitmq-stream://guest:guest@127.0.0.1:{Port}/%2f";

    public uint HeartbeatSeconds { get; }

    /// <summary>Every accepted connection, in order.</summary>
    public Channel<HostileSession> Sessions { get; } = Channel.CreateUnbounded<HostileSession>();

    /// <summary>Every subscription, on whichever connection, after its Subscribe OK was sent.</summary>
    public Channel<(HostileSession Session, byte Id)> Subscriptions { get; } = Channel.CreateUnbounded<(HostileSession, byte)>();

    /// <summary>Every declared publisher, on whichever connection, after its DeclarePublisher OK was sent.</summary>
    public Channel<(HostileSession Session, byte Id)> Publishers { get; } = Channel.CreateUnbounded<(HostileSession, byte)>();

    /// <summary>When each connection was accepted (<see cref="Environment.TickCount64"/>).</summary>
    public ConcurrentQueue<long> AcceptedAt { get; } = new();

    /// <summary>
    /// Called for every client frame after the handshake, before the default handling; return true when the frame was
    /// handled (the default answer is then not sent).
    /// </summary>
    public Func<HostileSession, ushort, byte[], Task<bool>>? Intercept { get; set; }

    /// <summary>Whether Subscribe, QueryOffset and DeclarePublisher are answered twice (the second answer is stale).</summary>
    public bool DuplicateResponses { get; set; }

    /// <summary>Whether Publish frames are confirmed at once (default true).</summary>
    public bool AutoConfirm { get; set; } = true;

    public StreamSystemOptions Options(Action<StreamSystemOptions>? configure = null)
    {
        var options = StreamSystemOptions.FromUri(Uri);
        options.RequestedHeartbeat = TimeSpan.Zero;
        options.RequestTimeout = TimeSpan.FromSeconds(5);
        options.ConnectTimeout = TimeSpan.FromSeconds(5);
        configure?.Invoke(options);
        return options;
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                AcceptedAt.Enqueue(Environment.TickCount64);
                var session = new HostileSession(this, client);
                _all.Add(session);
                await Sessions.Writer.WriteAsync(session);
                session.Start();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            Sessions.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var session in _all)
        {
            session.Drop();
        }

        await _accept;
        foreach (var session in _all)
        {
            await session.Completion;
        }

        _stop.Dispose();
    }
}

/// <summary>One client connection of a <see cref="HostileBroker"/>.</summary>
internal sealed class HostileSession
{
    private readonly HostileBroker _broker;
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private Task _loop = Task.CompletedTask;

    public HostileSession(HostileBroker broker, TcpClient client)
    {
        _broker = broker;
        _client = client;
        _stream = client.GetStream();
    }

    /// <summary>Completes when the client closed the socket or the session was dropped.</summary>
    public Task Completion => _loop;

    /// <summary>Subscription ids, as Subscribe requests arrive (after the OK was sent).</summary>
    public Channel<byte> Subscribed { get; } = Channel.CreateUnbounded<byte>();

    /// <summary>Publisher ids, as DeclarePublisher requests arrive (after the OK was sent).</summary>
    public Channel<byte> Declared { get; } = Channel.CreateUnbounded<byte>();

    /// <summary>Every frame the client sent after the handshake (heartbeats included), without size prefix.</summary>
    public Channel<byte[]> Received { get; } = Channel.CreateUnbounded<byte[]>();

    /// <summary>Credits granted per subscription id.</summary>
    public int[] Credits { get; } = new int[256];

    public void Start() => _loop = Task.Run(RunAsync);

    private async Task RunAsync()
    {
        var header = new byte[4];
        try
        {
            while (true)
            {
                await _stream.ReadExactlyAsync(header);
                var body = new byte[BinaryPrimitives.ReadUInt32BigEndian(header)];
                await _stream.ReadExactlyAsync(body);
                var key = BinaryPrimitives.ReadUInt16BigEndian(body);
                uint corr = body.Length >= 8 ? BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(4)) : 0;
                if (await HandshakeAsync(key, corr))
                {
                    continue;
                }

                await Received.Writer.WriteAsync(body);
                if (_broker.Intercept is { } intercept && await intercept(this, key, body))
                {
                    continue;
                }

                await DefaultAsync(key, corr, body);
            }
        }
        catch (Exception ex) when (ex is IOException or EndOfStreamException or ObjectDisposedException or SocketException or OperationCanceledException)
        {
        }
        finally
        {
            Received.Writer.TryComplete();
            Subscribed.Writer.TryComplete();
            Declared.Writer.TryComplete();
        }
    }

    private async Task<bool> HandshakeAsync(ushort key, uint corr)
    {
        switch (key)
        {
            case 0x11:
                await SendAsync(Response(0x11, corr, 1).U32(1).Str("product").Str("HostileBroker"));
                return true;
            case 0x12:
                await SendAsync(Response(0x12, corr, 1).U32(1).Str("PLAIN"));
                return true;
            case 0x13:
                await SendAsync(Response(0x13, corr, 1));
                await SendAsync(new FrameBody().U16(0x14).U16(1).U32(1_048_576).U32(_broker.HeartbeatSeconds));
                return true;
            case 0x8014:
                return true;
            case 0x15:
                await SendAsync(Response(0x15, corr, 1).U32(2).Str("advertised_host").Str("127.0.0.1").Str("advertised_port").Str(_broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                return true;
            case 0x1b:
                await SendAsync(Response(0x1b, corr, 1).U32(2).U16(0x02).U16(1).U16(2).U16(0x08).U16(1).U16(2));
                return true;
            default:
                return false;
        }
    }

    private async Task DefaultAsync(ushort key, uint corr, byte[] body)
    {
        switch (key)
        {
            case 0x0f: // Metadata: every stream lives here.
                {
                    var count = (int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(8));
                    var names = new List<string>();
                    var position = 12;
                    for (var i = 0; i < count; i++)
                    {
                        var length = BinaryPrimitives.ReadInt16BigEndian(body.AsSpan(position));
                        names.Add(Encoding.UTF8.GetString(body, position + 2, length));
                        position += 2 + length;
                    }

                    var frame = new FrameBody().U16(0x800f).U16(1).U32(corr).U32(1).U16(0).Str("127.0.0.1").U32((uint)_broker.Port).U32((uint)names.Count);
                    foreach (var name in names)
                    {
                        frame.Str(name).U16(1).U16(0).U32(0);
                    }

                    await SendAsync(frame);
                    break;
                }

            case 0x07: // Subscribe
                {
                    byte id = body[8];
                    var streamLength = BinaryPrimitives.ReadInt16BigEndian(body.AsSpan(9));
                    var offsetType = BinaryPrimitives.ReadUInt16BigEndian(body.AsSpan(11 + streamLength));
                    var creditAt = 13 + streamLength + (offsetType is 4 or 5 ? 8 : 0);
                    Credits[id] = BinaryPrimitives.ReadUInt16BigEndian(body.AsSpan(creditAt));
                    await SendAsync(Response(0x07, corr, 1));
                    await DuplicateAsync(Response(0x07, corr, 1));
                    await Subscribed.Writer.WriteAsync(id);
                    await _broker.Subscriptions.Writer.WriteAsync((this, id));
                    break;
                }

            case 0x09: // Credit
                Interlocked.Add(ref Credits[body[4]], BinaryPrimitives.ReadUInt16BigEndian(body.AsSpan(5)));
                break;
            case 0x0b: // QueryOffset: nothing stored
                await SendAsync(Response(0x0b, corr, 0x13).U64(0));
                await DuplicateAsync(Response(0x0b, corr, 0x13).U64(0));
                break;
            case 0x05: // QueryPublisherSequence
                await SendAsync(Response(0x05, corr, 1).U64(0));
                break;
            case 0x01: // DeclarePublisher
                await SendAsync(Response(0x01, corr, 1));
                await DuplicateAsync(Response(0x01, corr, 1));
                await Declared.Writer.WriteAsync(body[8]);
                await _broker.Publishers.Writer.WriteAsync((this, body[8]));
                break;
            case 0x02 when _broker.AutoConfirm: // Publish v1/v2: confirm every id
                await SendAsync(Confirm(body[4], PublishingIds(body)));
                break;
            case 0x16: // Close
                await SendAsync(Response(0x16, corr, 1));
                Drop();
                break;
            case 0x0a or 0x17 or 0x02: // StoreOffset, Heartbeat, Publish without confirm
                break;
            default:
                if (body.Length >= 8 && (key & 0x8000) == 0)
                {
                    await SendAsync(Response((ushort)(key & 0x7fff), corr, 1));
                }

                break;
        }
    }

    private Task DuplicateAsync(FrameBody response) => _broker.DuplicateResponses ? SendAsync(response) : Task.CompletedTask;

    /// <summary>The publishing ids of a Publish frame (v1 simple entries or v2).</summary>
    public static ulong[] PublishingIds(byte[] publish)
    {
        var version = BinaryPrimitives.ReadUInt16BigEndian(publish.AsSpan(2));
        var count = (int)BinaryPrimitives.ReadUInt32BigEndian(publish.AsSpan(5));
        var ids = new ulong[count];
        var position = 9;
        for (var i = 0; i < count; i++)
        {
            ids[i] = BinaryPrimitives.ReadUInt64BigEndian(publish.AsSpan(position));
            position += 8;
            if (version == 2)
            {
                var filterLength = BinaryPrimitives.ReadInt16BigEndian(publish.AsSpan(position));
                position += 2 + Math.Max((int)filterLength, 0);
            }

            var entry = BinaryPrimitives.ReadUInt32BigEndian(publish.AsSpan(position));
            if ((entry & 0x8000_0000) != 0)
            {
                // Sub-entry batch: 1ccc rrrr, records u16, uncompressed u32, data length u32, data.
                var dataLength = BinaryPrimitives.ReadUInt32BigEndian(publish.AsSpan(position + 7));
                position += 11 + (int)dataLength;
            }
            else
            {
                position += 4 + (int)entry;
            }
        }

        return ids;
    }

    public static FrameBody Response(ushort key, uint corr, ushort code) =>
        new FrameBody().U16((ushort)(0x8000 | key)).U16(1).U32(corr).U16(code);

    public static FrameBody Confirm(byte publisherId, params ulong[] ids)
    {
        var frame = new FrameBody().U16(0x03).U16(1).U8(publisherId).U32((uint)ids.Length);
        foreach (var id in ids)
        {
            frame.U64(id);
        }

        return frame;
    }

    /// <summary>A Deliver v2 frame body carrying <paramref name="chunk"/>.</summary>
    public static FrameBody Deliver(byte subscriptionId, byte[] chunk, ulong committed = 0) =>
        new FrameBody().U16(0x08).U16(2).U8(subscriptionId).U64(committed).Bytes(chunk);

    public Task SendAsync(FrameBody body) => SendRawAsync(body.Framed());

    public async Task SendRawAsync(byte[] bytes)
    {
        await _writeLock.WaitAsync();
        try
        {
            await _stream.WriteAsync(bytes);
            await _stream.FlushAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public void Drop()
    {
        try
        {
            _client.Client?.Close(0);
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
        }

        _client.Dispose();
    }
}
