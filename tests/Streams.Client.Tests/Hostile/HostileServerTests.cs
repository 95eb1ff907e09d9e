using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Streams.Client.Connections;
using Streams.Client.Tests.Consumers;

namespace Streams.Client.Tests.Hostile;

/// <summary>
/// Issue 13: a broken or hostile stream-protocol server (what a real broker never does). Each case completes the
/// handshake, then misbehaves, and asserts the typed outcome a user sees: the client keeps working (the frame is logged
/// and ignored), or the connection closes with a typed reason and recovery takes over, or the consumer/producer fails
/// with a <see cref="StreamClientException"/> — never a crash, a silent loss or unbounded memory.
/// </summary>
public sealed class HostileServerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void FastDeadPeerDetection(StreamSystemOptions options)
    {
        options.RequestedHeartbeat = TimeSpan.FromSeconds(1);
        options.DeadPeerTimeout = TimeSpan.FromSeconds(2);
    }

    private static byte[] Chunk(ulong chunkId, params string[] bodies)
    {
        var builder = new ChunkBuilder();
        foreach (var body in bodies)
        {
            builder.Simple(Encoding.UTF8.GetBytes(body));
        }

        return builder.Build(chunkId);
    }

    private sealed class Subscription : IAsyncDisposable
    {
        public required StreamSystem System { get; init; }

        public required Consumer Consumer { get; init; }

        public required HostileSession Session { get; init; }

        public required byte Id { get; init; }

        public required Channel<(ulong Offset, string Body)> Received { get; init; }

        public Channel<StreamStatusChangedEventArgs> Statuses { get; } = Channel.CreateUnbounded<StreamStatusChangedEventArgs>();

        public async Task<(ulong Offset, string Body)> NextAsync() => await Received.Reader.ReadAsync(Ct).AsTask().WaitAsync(Wait, Ct);

        public async Task<StreamStatusChangedEventArgs> NextStatusAsync(StreamStatus status)
        {
            while (true)
            {
                var change = await Statuses.Reader.ReadAsync(Ct).AsTask().WaitAsync(Wait, Ct);
                if (change.Status == status)
                {
                    return change;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Consumer.DisposeAsync();
            await System.DisposeAsync();
        }
    }

    private static async Task<Subscription> SubscribeAsync(
        HostileBroker broker,
        Action<StreamSystemOptions>? system = null,
        Action<ConsumerOptions>? consumer = null,
        Func<Delivery, Task>? gate = null)
    {
        var received = Channel.CreateUnbounded<(ulong, string)>();
        var streamSystem = await StreamSystem.ConnectAsync(broker.Options(system), Ct);
        var options = new ConsumerOptions("hostile")
        {
            Offset = OffsetSpecification.First,
            Recovery = new RecoveryPolicy { InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(200) },
            Handler = async (delivery, _) =>
            {
                if (gate is not null)
                {
                    await gate(delivery);
                }

                await received.Writer.WriteAsync((delivery.Offset, Encoding.UTF8.GetString(delivery.Body.Span)), CancellationToken.None);
            },
        };
        consumer?.Invoke(options);
        var created = await streamSystem.CreateConsumerAsync(options, Ct);
        var (session, id) = await broker.Subscriptions.Reader.ReadAsync(Ct).AsTask().WaitAsync(Wait, Ct);
        var subscription = new Subscription { System = streamSystem, Consumer = created, Session = session, Id = id, Received = received };
        created.StatusChanged += (_, e) => subscription.Statuses.Writer.TryWrite(e);
        return subscription;
    }

    /// <summary>A logger factory whose every entry, at every level, lands in <paramref name="collector"/>.</summary>
    private static ILoggerFactory CapturingLoggerFactory(FakeLogCollector collector) =>
        LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(collector)));

    [Fact]
    public async Task Server_close_is_answered_and_the_consumer_resubscribes_on_a_new_connection()
    {
        await using var broker = new HostileBroker();
        await using var s = await SubscribeAsync(broker);
        await s.Session.SendAsync(HostileSession.Deliver(s.Id, Chunk(0, "a", "b")));
        Assert.Equal((0UL, "a"), await s.NextAsync());
        Assert.Equal((1UL, "b"), await s.NextAsync());

        await s.Session.SendAsync(new FrameBody().U16(0x16).U16(1).U32(1).U16(0x0d).Str("unknown frame"));

        var answer = await NextKeyAsync(s.Session, 0x8016);
        Assert.Equal(1u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(answer.AsSpan(4)));
        var lost = await s.NextStatusAsync(StreamStatus.Reconnecting);
        Assert.Contains("unknown frame", lost.Reason, StringComparison.Ordinal);

        var (session, id) = await broker.Subscriptions.Reader.ReadAsync(Ct).AsTask().WaitAsync(Wait, Ct);
        Assert.NotSame(s.Session, session);
        await s.NextStatusAsync(StreamStatus.Recovered);
        await session.SendAsync(HostileSession.Deliver(id, Chunk(0, "a", "b", "c")));
        Assert.Equal((2UL, "c"), await s.NextAsync());
    }

    [Fact]
    public async Task Unknown_commands_correlation_ids_subscriptions_publishers_and_duplicated_responses_are_logged_and_ignored()
    {
        var collector = new FakeLogCollector();
        using var logs = CapturingLoggerFactory(collector);
        await using var broker = new HostileBroker { DuplicateResponses = true };
        await using var s = await SubscribeAsync(broker, o => o.LoggerFactory = logs);

        await s.Session.SendAsync(new FrameBody().U16(0x7777).U16(1).U32(42));                              // unknown command
        await s.Session.SendAsync(HostileSession.Response(0x0b, 0xDEADBEEF, 1).U64(7));                      // unknown correlation id
        await s.Session.SendAsync(HostileSession.Deliver((byte)(s.Id + 100), Chunk(0, "not yours")));        // unknown subscription
        await s.Session.SendAsync(HostileSession.Confirm(77, 1, 2, 3));                                      // unknown publisher
        await s.Session.SendAsync(new FrameBody().U16(0x8009).U16(1).U16(0x04).U8(200));                     // credit error, unknown subscription
        await s.Session.SendAsync(HostileSession.Deliver(s.Id, Chunk(0, "first")));

        Assert.Equal((0UL, "first"), await s.NextAsync());
        Assert.Equal(StreamStatus.Connected, s.Consumer.Status);
        var entries = collector.GetSnapshot();
        bool Has(LogLevel atLeast, string fragment) => entries.Any(e => e.Level >= atLeast && e.Message.Contains(fragment, StringComparison.OrdinalIgnoreCase));
        var dump = string.Join(Environment.NewLine, entries.Select(e => $"{e.Level} {e.Id.Id}: {e.Message}"));
        Assert.True(Has(LogLevel.Warning, "Unexpected frame key 0x7777"), dump);
        Assert.True(Has(LogLevel.Warning, "unknown correlation id 3735928559"), dump);
        Assert.True(Has(LogLevel.Debug, "unknown subscription id"), dump);
        Assert.True(Has(LogLevel.Debug, "unknown publisher id 77"), dump);
        Assert.False(s.Consumer.Completion.IsCompleted);
    }

    [Fact]
    public async Task Confirms_for_unknown_and_already_confirmed_publishing_ids_do_not_disturb_the_producer()
    {
        await using var broker = new HostileBroker { AutoConfirm = false };
        broker.Intercept = async (session, key, body) =>
        {
            if (key != 0x02)
            {
                return false;
            }

            var ids = HostileSession.PublishingIds(body);
            await session.SendAsync(HostileSession.Confirm(body[4], 999_999, ids[^1] + 1_000));   // never published
            await session.SendAsync(HostileSession.Confirm(body[4], ids));
            await session.SendAsync(HostileSession.Confirm(body[4], ids));                       // confirmed twice
            return true;
        };
        await using var system = await StreamSystem.ConnectAsync(broker.Options(), Ct);
        await using var producer = await system.CreateProducerAsync(new ProducerOptions("hostile"), Ct);

        await producer.SendAsync(Encoding.UTF8.GetBytes("one"), Ct).WaitAsync(Wait, Ct);
        await producer.SendAsync(Encoding.UTF8.GetBytes("two"), Ct).WaitAsync(Wait, Ct);
        Assert.Equal(StreamStatus.Connected, producer.Status);
    }

    [Fact]
    public async Task Deliveries_beyond_the_credit_window_close_the_connection_as_a_protocol_violation_and_recovery_takes_over()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var broker = new HostileBroker();
        await using var s = await SubscribeAsync(broker, consumer: o => o.InitialCredits = 2, gate: _ => release.Task);
        Assert.Equal(2, s.Session.Credits[s.Id]);

        // The handler holds the first message, so no credit comes back: a broker may send 2 chunks, not 5.
        for (ulong i = 0; i < 5; i++)
        {
            await s.Session.SendAsync(HostileSession.Deliver(s.Id, Chunk(i, $"m{i}")));
        }

        var lost = await s.NextStatusAsync(StreamStatus.Reconnecting);
        Assert.Contains("beyond the credit", lost.Reason, StringComparison.Ordinal);
        Assert.Contains(nameof(ConnectionCloseKind.ProtocolViolation), lost.Reason, StringComparison.Ordinal);
        release.SetResult();

        var (session, id) = await broker.Subscriptions.Reader.ReadAsync(Ct).AsTask().WaitAsync(Wait, Ct);
        Assert.NotSame(s.Session, session);
        await session.SendAsync(HostileSession.Deliver(id, Chunk(0, "m0", "m1")));
        Assert.Equal((0UL, "m0"), await s.NextAsync());
        Assert.Equal((1UL, "m1"), await s.NextAsync());
    }

    [Fact]
    public async Task A_broker_that_respects_credit_is_never_flagged()
    {
        await using var broker = new HostileBroker();
        await using var s = await SubscribeAsync(broker, consumer: o => o.InitialCredits = 2);
        for (ulong i = 0; i < 20; i++)
        {
            // Wait for the credit each chunk returns before sending the next one beyond the window.
            while (Volatile.Read(ref s.Session.Credits[s.Id]) <= 0)
            {
                await Task.Delay(5, Ct);
            }

            Interlocked.Decrement(ref s.Session.Credits[s.Id]);
            await s.Session.SendAsync(HostileSession.Deliver(s.Id, Chunk(i, $"m{i}")));
            Assert.Equal((i, $"m{i}"), await s.NextAsync());
        }

        Assert.Equal(StreamStatus.Connected, s.Consumer.Status);
    }

    [Fact]
    public async Task A_peer_that_goes_silent_after_subscribe_is_detected_within_the_dead_peer_timeout()
    {
        await using var broker = new HostileBroker();
        await using var s = await SubscribeAsync(broker, FastDeadPeerDetection);

        var lost = await s.NextStatusAsync(StreamStatus.Reconnecting);
        Assert.Contains(nameof(ConnectionCloseKind.HeartbeatTimeout), lost.Reason, StringComparison.Ordinal);
        Assert.Contains("dead-peer timeout 2 s", lost.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_peer_that_stops_in_the_middle_of_a_frame_is_detected_within_the_dead_peer_timeout()
    {
        await using var broker = new HostileBroker();
        await using var s = await SubscribeAsync(broker, FastDeadPeerDetection);
        var frame = HostileSession.Deliver(s.Id, Chunk(0, "half")).Framed();
        await s.Session.SendRawAsync(frame.AsSpan(0, frame.Length / 2).ToArray());

        var lost = await s.NextStatusAsync(StreamStatus.Reconnecting);
        Assert.Contains(nameof(ConnectionCloseKind.HeartbeatTimeout), lost.Reason, StringComparison.Ordinal);
        var (session, id) = await broker.Subscriptions.Reader.ReadAsync(Ct).AsTask().WaitAsync(Wait, Ct);
        await session.SendAsync(HostileSession.Deliver(id, Chunk(0, "half")));
        Assert.Equal((0UL, "half"), await s.NextAsync());
    }

    [Fact]
    public async Task The_defaults_declare_a_silent_peer_dead_within_30_seconds()
    {
        var defaults = new StreamSystemOptions();
        Assert.Equal(TimeSpan.FromSeconds(10), defaults.RequestedHeartbeat);
        Assert.Null(defaults.DeadPeerTimeout);

        // The broker proposes 60 s (RabbitMQ's default): the client's 10 s wins, and twice that is the dead-peer timeout.
        await using var broker = new HostileBroker(heartbeatSeconds: 60);
        var settings = StreamSystemOptions.FromUri(broker.Uri).ToConnectionSettings(new StreamEndpoint("127.0.0.1", broker.Port), null);
        await using var connection = await StreamConnection.ConnectAsync(settings, NullLogger.Instance, TimeProvider.System, Ct);
        Assert.Equal(TimeSpan.FromSeconds(10), connection.Heartbeat);
        Assert.Equal(TimeSpan.FromSeconds(20), connection.DeadPeerTimeout);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(10.0)]
    public void A_dead_peer_timeout_not_longer_than_the_heartbeat_is_refused(double seconds)
    {
        var options = new StreamSystemOptions { RequestedHeartbeat = TimeSpan.FromSeconds(10), DeadPeerTimeout = TimeSpan.FromSeconds(seconds) };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(nameof(StreamSystemOptions.DeadPeerTimeout), error.ParamName);
    }

    [Fact]
    public async Task A_server_that_breaks_every_connection_gets_growing_delays_then_a_typed_failure()
    {
        var collector = new FakeLogCollector();
        using var logs = CapturingLoggerFactory(collector);
        await using var broker = new HostileBroker();
        var subscribedAt = new System.Collections.Concurrent.ConcurrentQueue<long>();
        broker.Intercept = async (session, key, body) =>
        {
            if (key != 0x07)
            {
                return false;
            }

            subscribedAt.Enqueue(Environment.TickCount64);
            await session.SendAsync(HostileSession.Response(0x07, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(4)), 1));
            await broker.Subscriptions.Writer.WriteAsync((session, body[8]));
            await session.SendRawAsync([0, 0, 0, 1, 0xff]); // a frame of one byte: not even a key
            return true;
        };
        var policy = new RecoveryPolicy
        {
            InitialDelay = TimeSpan.FromMilliseconds(100),
            BackoffMultiplier = 2,
            Jitter = 0,
            MaxDelay = TimeSpan.FromSeconds(5),
            MaxAttempts = 4,
        };

        await using var system = await StreamSystem.ConnectAsync(broker.Options(o => o.LoggerFactory = logs), Ct);
        await using var consumer = await system.CreateConsumerAsync(new ConsumerOptions("hostile") { Recovery = policy, Handler = (_, _) => ValueTask.CompletedTask }, Ct);

        var failure = await Assert.ThrowsAsync<RecoveryFailedException>(() => consumer.Completion.WaitAsync(Wait, Ct));
        Assert.Equal(4, failure.Attempts);
        Assert.Contains("frame size", failure.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(StreamStatus.Failed, consumer.Status);

        // The first subscription and 4 recoveries, each one waiting longer: 100, 200, 400, 800 ms.
        var times = subscribedAt.ToArray();
        Assert.Equal(5, times.Length);
        for (var i = 1; i < times.Length; i++)
        {
            var expected = 100 * (1 << (i - 1));
            Assert.True(times[i] - times[i - 1] >= expected - 20, $"gap {i}: {times[i] - times[i - 1]} ms, expected at least {expected} ms");
        }

        var entries = collector.GetSnapshot();
        Assert.Equal(5, entries.Count(e => e.Id.Id == 1015)); // every protocol violation logged as an error
        Assert.Equal(4, entries.Count(e => e.Id.Id == 4005)); // and every loss after a recovery continuing the back-off
    }

    [Fact]
    public async Task A_metadata_response_with_an_unusable_broker_list_is_a_typed_error()
    {
        await using var broker = new HostileBroker();
        broker.Intercept = async (session, key, body) =>
        {
            if (key != 0x0f)
            {
                return false;
            }

            var corr = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(4));
            await session.SendAsync(new FrameBody().U16(0x800f).U16(1).U32(corr)
                .U32(2).U16(0).Str("127.0.0.1").U32(5552).U16(0).Str("127.0.0.2").U32(5552)
                .U32(1).Str("hostile").U16(1).U16(0).U32(0));
            return true;
        };
        await using var system = await StreamSystem.ConnectAsync(broker.Options(), Ct);

        var error = await Assert.ThrowsAsync<StreamProtocolFormatException>(() => system.QueryMetadataAsync(["hostile"], Ct));
        Assert.Contains("reference 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_confirmation_timeout_names_the_real_timeout_or_the_option()
    {
        var timedOut = new Confirmation(7, ConfirmationStatus.TimedOut, ResponseCode.Ok);
        Assert.Contains("within 30 s", timedOut.ToException(TimeSpan.FromSeconds(30))!.Message, StringComparison.Ordinal);
        var unknown = timedOut.ToException()!.Message;
        Assert.DoesNotContain("00:00:00", unknown, StringComparison.Ordinal);
        Assert.Contains("ProducerOptions.ConfirmTimeout", unknown, StringComparison.Ordinal);
    }

    private static async Task<byte[]> NextKeyAsync(HostileSession session, ushort key)
    {
        while (true)
        {
            var frame = await session.Received.Reader.ReadAsync(Ct).AsTask().WaitAsync(Wait, Ct);
            if (System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(frame) == key)
            {
                return frame;
            }
        }
    }
}
