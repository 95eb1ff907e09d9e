using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace Streams.Client.Tests.Hostile;

/// <summary>Something a client did on a <see cref="FuzzBroker"/> connection.</summary>
internal abstract record BrokerEvent(BrokerConnection Connection);

internal sealed record Subscribed(BrokerConnection Connection, byte SubscriptionId, ushort OffsetType, ulong OffsetValue, ushort Credit) : BrokerEvent(Connection);

internal sealed record PublisherDeclared(BrokerConnection Connection, byte PublisherId) : BrokerEvent(Connection);

internal sealed record Published(BrokerConnection Connection, byte PublisherId, IReadOnlyList<ulong> Ids) : BrokerEvent(Connection);

/// <summary>One accepted client connection of a <see cref="FuzzBroker"/>.</summary>
internal sealed class BrokerConnection
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private int _dropped;

    public BrokerConnection(int id, TcpClient client)
    {
        Id = id;
        _client = client;
        _stream = client.GetStream();
    }

    public int Id { get; }

    public long Credits;

    public NetworkStream Stream => _stream;

    public bool IsDropped => Volatile.Read(ref _dropped) == 1;

    /// <summary>Writes raw bytes (whole frames, or anything a hostile peer likes). Fails silently once the peer is gone.</summary>
    public async Task<bool> SendAsync(ReadOnlyMemory<byte> bytes)
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(bytes).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Closes the connection gracefully (FIN after the bytes already written), as a peer that gives up would.</summary>
    public void Drop()
    {
        if (Interlocked.Exchange(ref _dropped, 1) == 1)
        {
            return;
        }

        try
        {
            _client.Client.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }

        _client.Dispose();
    }
}

/// <summary>
/// A scripted loopback broker for the fuzzers: accepts any number of connections, completes the handshake (Tune with
/// heartbeat 0), answers Metadata (itself as the leader of every stream), Subscribe, DeclarePublisher, QueryOffset
/// (no offset), QueryPublisherSequence (0), Unsubscribe, DeletePublisher and Close, counts Credit, decodes the publishing
/// ids of Publish frames, and reports subscriptions, publishers and publishes as <see cref="Events"/>. What it sends
/// after that is up to the test: <see cref="BrokerConnection.SendAsync"/> writes raw bytes.
/// </summary>
internal sealed class FuzzBroker : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<BrokerConnection> _connections = [];
    private readonly Task _accept;
    private int _nextId;

    public FuzzBroker()
    {
        _listener.Start();
        _accept = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public Channel<BrokerEvent> Events { get; } = Channel.CreateUnbounded<BrokerEvent>();

    public int ConnectionsAccepted => Volatile.Read(ref _nextId);

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
                client.NoDelay = true;
                var connection = new BrokerConnection(Interlocked.Increment(ref _nextId), client);
                lock (_connections)
                {
                    _connections.RemoveAll(c => c.IsDropped);
                    _connections.Add(connection);
                }

                _ = Task.Run(() => ServeAsync(connection));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task ServeAsync(BrokerConnection connection)
    {
        var header = new byte[4];
        try
        {
            while (true)
            {
                await connection.Stream.ReadExactlyAsync(header, _stop.Token).ConfigureAwait(false);
                var body = new byte[BinaryPrimitives.ReadUInt32BigEndian(header)];
                await connection.Stream.ReadExactlyAsync(body, _stop.Token).ConfigureAwait(false);
                await HandleAsync(connection, body).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or EndOfStreamException or ObjectDisposedException or SocketException or OperationCanceledException)
        {
        }
        finally
        {
            connection.Drop();
        }
    }

    private async Task HandleAsync(BrokerConnection connection, byte[] body)
    {
        ushort key = BinaryPrimitives.ReadUInt16BigEndian(body);
        ushort version = BinaryPrimitives.ReadUInt16BigEndian(body.AsSpan(2));
        uint corr = body.Length >= 8 ? BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(4)) : 0;
        var r = new Reader(body, 8);
        switch (key)
        {
            case 0x11:
                await ReplyAsync(connection, key, corr, w => w.U16(1).U32(1).Str("version").Str("4.0.5")).ConfigureAwait(false);
                break;
            case 0x12:
                await ReplyAsync(connection, key, corr, w => w.U16(1).U32(1).Str("PLAIN")).ConfigureAwait(false);
                break;
            case 0x13:
                await ReplyAsync(connection, key, corr, w => w.U16(1)).ConfigureAwait(false);
                await connection.SendAsync(new FrameBody().U16(0x14).U16(1).U32(1_048_576).U32(0).Framed()).ConfigureAwait(false);
                break;
            case 0x15:
            case 0x16:
            case 0x0c:
            case 0x06:
                await ReplyAsync(connection, key, corr, w => w.U16(1)).ConfigureAwait(false);
                break;
            case 0x1b:
                await ReplyAsync(connection, key, corr, w => w.U16(1).U32(1).U16(0x02).U16(1).U16(2)).ConfigureAwait(false);
                break;
            case 0x0f:
                {
                    int n = (int)r.U32();
                    var streams = new List<string>();
                    for (int i = 0; i < n; i++)
                    {
                        streams.Add(r.Str());
                    }

                    await ReplyAsync(connection, key, corr, w =>
                    {
                        w.U32(1).U16(0).Str("127.0.0.1").U32((uint)Port).U32((uint)streams.Count);
                        foreach (var s in streams)
                        {
                            w.Str(s).U16(1).U16(0).U32(0);
                        }

                        return w;
                    }).ConfigureAwait(false);
                    break;
                }

            case 0x07:
                {
                    byte id = r.U8();
                    r.Str();
                    ushort type = r.U16();
                    ulong value = type is 4 or 5 ? r.U64() : 0;
                    ushort credit = r.U16();
                    await ReplyAsync(connection, key, corr, w => w.U16(1)).ConfigureAwait(false);
                    await Events.Writer.WriteAsync(new Subscribed(connection, id, type, value, credit)).ConfigureAwait(false);
                    break;
                }

            case 0x01:
                {
                    byte id = r.U8();
                    await ReplyAsync(connection, key, corr, w => w.U16(1)).ConfigureAwait(false);
                    await Events.Writer.WriteAsync(new PublisherDeclared(connection, id)).ConfigureAwait(false);
                    break;
                }

            case 0x05:
                await ReplyAsync(connection, key, corr, w => w.U16(1).U64(0)).ConfigureAwait(false);
                break;
            case 0x0b:
                await ReplyAsync(connection, key, corr, w => w.U16(0x13).U64(0)).ConfigureAwait(false);
                break;
            case 0x09:
                Interlocked.Increment(ref connection.Credits);
                break;
            case 0x02:
                {
                    var p = new Reader(body, 4);
                    byte publisherId = p.U8();
                    int n = (int)p.U32();
                    var ids = new List<ulong>(n);
                    for (int i = 0; i < n; i++)
                    {
                        ids.Add(p.U64());
                        if (version >= 2)
                        {
                            p.Str();
                            p.Skip((int)p.U32());
                        }
                        else if ((p.Peek() & 0x80) == 0)
                        {
                            p.Skip((int)p.U32());
                        }
                        else
                        {
                            p.Skip(7);
                            p.Skip((int)p.U32());
                        }
                    }

                    await Events.Writer.WriteAsync(new Published(connection, publisherId, ids)).ConfigureAwait(false);
                    break;
                }

            default:
                break;
        }
    }

    private static Task<bool> ReplyAsync(BrokerConnection connection, ushort key, uint corr, Func<FrameBody, FrameBody> fields) =>
        connection.SendAsync(fields(new FrameBody().U16((ushort)(key | 0x8000)).U16(1).U32(corr)).Framed());

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        BrokerConnection[] all;
        lock (_connections)
        {
            all = [.. _connections];
        }

        foreach (var c in all)
        {
            c.Drop();
        }

        await _accept.ConfigureAwait(false);
        _stop.Dispose();
    }

    private sealed class Reader(byte[] buffer, int position)
    {
        private int _position = position;

        public byte Peek() => buffer[_position];

        public byte U8() => buffer[_position++];

        public ushort U16()
        {
            var v = BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(_position));
            _position += 2;
            return v;
        }

        public uint U32()
        {
            var v = BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(_position));
            _position += 4;
            return v;
        }

        public ulong U64()
        {
            var v = BinaryPrimitives.ReadUInt64BigEndian(buffer.AsSpan(_position));
            _position += 8;
            return v;
        }

        public string Str()
        {
            short length = (short)U16();
            if (length < 0)
            {
                return string.Empty;
            }

            var s = Encoding.UTF8.GetString(buffer, _position, length);
            _position += length;
            return s;
        }

        public void Skip(int count) => _position += count;
    }
}
