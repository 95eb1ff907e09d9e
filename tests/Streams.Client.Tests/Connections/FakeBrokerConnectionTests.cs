using System.Buffers.Binary;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Client.Connections;
using Streams.Client.Tests.Protocol;

namespace Streams.Client.Tests.Connections;

/// <summary>Connection behaviours that need a misbehaving peer: dead broker, dropped socket, split frames, exact replies.</summary>
public sealed class FakeBrokerConnectionTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<StreamConnection> ConnectAsync(FakeBroker broker, TimeSpan? heartbeat = null, TimeSpan? requestTimeout = null)
    {
        var settings = new StreamConnectionSettings
        {
            Host = "127.0.0.1",
            Port = broker.Port,
            RequestedHeartbeat = heartbeat ?? TimeSpan.Zero,
            RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(10),
        };
        var connection = await StreamConnection.ConnectAsync(settings, NullLogger.Instance, TimeProvider.System, Ct);
        await broker.HandshakeDone.Task.WaitAsync(Wait, Ct);
        return connection;
    }

    [Fact]
    public async Task Silent_peer_is_detected_as_heartbeat_timeout_and_client_sends_heartbeats()
    {
        await using var broker = new FakeBroker(heartbeat: 1);
        await using var connection = await ConnectAsync(broker, heartbeat: TimeSpan.FromSeconds(1));
        var closed = new TaskCompletionSource<ConnectionClosedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Closed += (_, e) => closed.TrySetResult(e);
        var started = DateTime.UtcNow;

        var heartbeat = await broker.Received.Reader.ReadAsync(Ct).AsTask().WaitAsync(Wait, Ct);
        Assert.Equal("00170001", Hex.Format(heartbeat));

        var reason = await closed.Task.WaitAsync(Wait, Ct);
        Assert.Equal(ConnectionCloseKind.HeartbeatTimeout, reason.Kind);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Dropped_socket_fails_pending_requests_and_raises_TransportFailure()
    {
        await using var broker = new FakeBroker();
        await using var connection = await ConnectAsync(broker);
        var closed = new TaskCompletionSource<ConnectionClosedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Closed += (_, e) => closed.TrySetResult(e);
        var publisher = new RecordingPublisherHandler();
        connection.RegisterPublisher("s", publisher);

        var pending = connection.QueryOffsetAsync("r", "s", Ct);
        await broker.NextAsync(Wait);
        broker.DropConnection();

        await Assert.ThrowsAsync<StreamConnectionClosedException>(() => pending);
        Assert.Equal(ConnectionCloseKind.TransportFailure, (await closed.Task.WaitAsync(Wait, Ct)).Kind);
        Assert.Equal(ConnectionCloseKind.TransportFailure, (await publisher.ConnectionClosed.Task.WaitAsync(Wait, Ct)).Kind);
    }

    [Fact]
    public async Task Unanswered_request_times_out_and_the_connection_stays_open()
    {
        await using var broker = new FakeBroker();
        await using var connection = await ConnectAsync(broker, requestTimeout: TimeSpan.FromMilliseconds(300));

        var ex = await Assert.ThrowsAsync<StreamTimeoutException>(() => connection.QueryOffsetAsync("r", "s", Ct));
        Assert.Contains("QueryOffset", ex.Message, StringComparison.Ordinal);
        Assert.True(connection.IsOpen);

        // A late answer for the timed-out request is ignored.
        var request = await broker.NextAsync(Wait);
        var corr = Hex.Format(request.AsSpan(4, 4));
        await broker.SendAsync($"80 0b 00 01 {corr} 00 01 00 00 00 00 00 00 00 05");
        var next = connection.QueryOffsetAsync("r", "s", Ct);
        var second = await broker.NextAsync(Wait);
        await broker.SendAsync($"80 0b 00 01 {Hex.Format(second.AsSpan(4, 4))} 00 01 00 00 00 00 00 00 00 07");
        Assert.Equal(7ul, await next);
    }

    [Fact]
    public async Task Server_close_is_answered_with_its_correlation_id()
    {
        await using var broker = new FakeBroker();
        await using var connection = await ConnectAsync(broker);
        var closed = new TaskCompletionSource<ConnectionClosedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Closed += (_, e) => closed.TrySetResult(e);

        await broker.SendAsync("00 16 00 01 00 00 00 01 00 0e 00 0f \"frame too large\"");

        Assert.Equal("801600010000000100 01".Replace(" ", "", StringComparison.Ordinal), Hex.Format(await broker.NextAsync(Wait)));
        var reason = await closed.Task.WaitAsync(Wait, Ct);
        Assert.Equal(ConnectionCloseKind.Server, reason.Kind);
        Assert.Equal(ResponseCode.FrameTooLarge, reason.Code);
        Assert.Equal("frame too large", reason.Reason);
    }

    [Fact]
    public async Task Frames_split_across_reads_and_coalesced_in_one_read_are_parsed()
    {
        await using var broker = new FakeBroker();
        await using var connection = await ConnectAsync(broker);

        var first = connection.QueryOffsetAsync("a", "s", Ct);
        var second = connection.QueryPublisherSequenceAsync("b", "s", Ct);
        var r1 = await broker.NextAsync(Wait);
        var r2 = await broker.NextAsync(Wait);
        var bytes = FakeBroker.Frame(Hex.Parse($"80 0b 00 01 {Hex.Format(r1.AsSpan(4, 4))} 00 01 00 00 00 00 00 00 00 0b"))
            .Concat(FakeBroker.Frame(Hex.Parse("00 17 00 01")))
            .Concat(FakeBroker.Frame(Hex.Parse($"80 05 00 01 {Hex.Format(r2.AsSpan(4, 4))} 00 01 00 00 00 00 00 00 00 0c")))
            .ToArray();
        await broker.SendRawAsync(bytes, chunkSize: 3);

        Assert.Equal(11ul, await first);
        Assert.Equal(12ul, await second);
    }

    [Fact]
    public async Task Large_deliver_frames_are_handed_over_whole()
    {
        await using var broker = new FakeBroker();
        await using var connection = await ConnectAsync(broker);
        var handler = new RecordingSubscriptionHandler();
        var id = connection.RegisterSubscription("s", handler);

        var chunk = new byte[200_000];
        new Random(1).NextBytes(chunk);
        chunk[0] = 0x50;
        var body = new byte[13 + chunk.Length];
        BinaryPrimitives.WriteUInt16BigEndian(body, 0x0008);
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(2), 2);
        body[4] = id;
        BinaryPrimitives.WriteUInt64BigEndian(body.AsSpan(5), 99);
        chunk.CopyTo(body, 13);
        await broker.SendRawAsync(FakeBroker.Frame(body), chunkSize: 50_000);

        var (received, committed) = await handler.FirstDelivery.Task.WaitAsync(Wait, Ct);
        Assert.Equal(99ul, committed);
        Assert.Equal(chunk, received);
    }

    [Fact]
    public async Task Consumer_update_reply_carries_the_server_correlation_id_and_the_handler_offset()
    {
        await using var broker = new FakeBroker();
        await using var connection = await ConnectAsync(broker);
        var handler = new RecordingSubscriptionHandler(OffsetSpecification.Offset(0x1234));
        var id = connection.RegisterSubscription("s", handler);

        await broker.SendAsync($"00 1a 00 01 00 00 00 07 {id:x2} 01");

        Assert.Equal(Hex.Format(Hex.Parse("80 1a 00 01 00 00 00 07 00 01 00 04 00 00 00 00 00 00 12 34")), Hex.Format(await broker.NextAsync(Wait)));
        Assert.True(await handler.ConsumerUpdate.Task);
    }

    [Fact]
    public async Task Consumer_update_for_an_unknown_subscription_is_still_answered()
    {
        await using var broker = new FakeBroker();
        await using var connection = await ConnectAsync(broker);

        await broker.SendAsync("00 1a 00 01 00 00 00 03 09 00");

        Assert.Equal(Hex.Format(Hex.Parse("80 1a 00 01 00 00 00 03 00 04 00 00")), Hex.Format(await broker.NextAsync(Wait)));
    }

    [Fact]
    public async Task Publish_error_and_confirm_are_routed_by_publisher_id()
    {
        await using var broker = new FakeBroker();
        await using var connection = await ConnectAsync(broker);
        var a = new RecordingPublisherHandler();
        var b = new RecordingPublisherHandler();
        var idA = connection.RegisterPublisher("s", a);
        var idB = connection.RegisterPublisher("s", b);

        await broker.SendAsync($"00 04 00 01 {idB:x2} 00 00 00 02 00 00 00 00 00 00 00 01 00 12 00 00 00 00 00 00 00 02 00 11");
        await broker.SendAsync($"00 03 00 01 {idA:x2} 00 00 00 01 00 00 00 00 00 00 00 05");

        Assert.Equal(5ul, await a.FirstConfirm.Task.WaitAsync(Wait, Ct));
        Assert.Equal([(1ul, ResponseCode.PublisherDoesNotExist), (2ul, ResponseCode.PreconditionFailed)], b.Errors.ToArray());
        Assert.Empty(a.Errors);
        Assert.Empty(b.Confirmed);
    }

    [Fact]
    public async Task Concurrent_writers_keep_frames_intact_and_in_order_per_writer()
    {
        await using var broker = new FakeBroker();
        await using var connection = await ConnectAsync(broker);
        const int writers = 16;
        const int perWriter = 300;
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var sent = new int[writers];

        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var j = 0; j < perWriter; j++)
            {
                var frame = Streams.Client.Protocol.Requests.StoreOffset("w" + w, "s", (ulong)j);
                if (j % 7 == 3)
                {
                    try
                    {
                        await connection.WriteAsync(frame, cancelled.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        continue;
                    }
                }
                else
                {
                    await connection.WriteAsync(frame, Ct);
                }

                Interlocked.Increment(ref sent[w]);
            }
        }, Ct)));

        var total = sent.Sum();
        var last = new long[writers];
        Array.Fill(last, -1);
        for (var i = 0; i < total; i++)
        {
            var frame = await broker.NextAsync(Wait);
            Assert.Equal(0x000a, BinaryPrimitives.ReadUInt16BigEndian(frame));
            var reader = new Streams.Client.Protocol.ProtocolReader(frame.AsSpan(4));
            var reference = reader.ReadString()!;
            Assert.Equal("s", reader.ReadString());
            var offset = (long)reader.ReadUInt64();
            var w = int.Parse(reference[1..], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(offset > last[w], $"writer {w}: {offset} after {last[w]}");
            last[w] = offset;
        }

        Assert.True(connection.IsOpen);
    }

    [Fact]
    public async Task Uncontended_writes_do_not_allocate()
    {
        await using var broker = new FakeBroker();
        await using var connection = await ConnectAsync(broker);
        var frame = Streams.Client.Protocol.Requests.Heartbeat;
        for (var i = 0; i < 100; i++)
        {
            await connection.WriteAsync(frame, CancellationToken.None);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            var pending = connection.WriteAsync(frame, CancellationToken.None);
            Assert.True(pending.IsCompletedSuccessfully);
            await pending;
        }

        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1024);
    }
}
