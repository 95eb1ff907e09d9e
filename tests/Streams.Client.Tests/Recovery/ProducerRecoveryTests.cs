using System.Collections.Concurrent;
using Streams.Client.Producers;
using Streams.Client.Recovery;
using Streams.Client.Tests.Producers;

namespace Streams.Client.Tests.Recovery;

/// <summary>Producer recovery against in-memory connections: what is re-sent, what fails, with which ids.</summary>
public sealed class ProducerRecoveryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly RecoveryPolicy Immediate = new() { InitialDelay = TimeSpan.Zero, MaxDelay = TimeSpan.FromMilliseconds(10) };

    private sealed class FakeConnector : IStreamConnector
    {
        public ConcurrentQueue<FakeStreamOperations> Next { get; } = new();

        public bool Deleted { get; set; }

        public Task<IStreamOperations> ConnectAsync(string stream, bool preferReplica, CancellationToken cancellationToken)
        {
            if (Deleted)
            {
                return Task.FromException<IStreamOperations>(new StreamDoesNotExistException(stream, "gone"));
            }

            return Next.TryDequeue(out var ops)
                ? Task.FromResult<IStreamOperations>(ops)
                : Task.FromException<IStreamOperations>(new StreamClientException("no node"));
        }
    }

    private static Task WaitUntil(Func<bool> condition) => Streams.Testing.Eventually.TrueAsync(condition);

    private static readonly ConnectionClosedEventArgs Lost = new(ConnectionCloseKind.TransportFailure, "test");

    [Fact]
    public async Task Named_producer_resends_unconfirmed_messages_with_their_original_ids_on_the_new_connection()
    {
        var ops1 = new FakeStreamOperations();
        var ops2 = new FakeStreamOperations { PublisherSequence = 1 };
        var connector = new FakeConnector();
        connector.Next.Enqueue(ops2);
        await using var producer = await Producer.CreateAsync(ops1, connector, new ProducerOptions("s1") { Name = "p", Recovery = Immediate }, null, Ct);
        var sends = Enumerable.Range(0, 3).Select(i => producer.SendAsync(new byte[] { (byte)i }, Ct)).ToArray();
        await WaitUntil(() => ops1.SnapshotFrames().Sum(f => FakeStreamOperations.PublishingIds(f).Count) == 3);
        // None confirmed when the connection is lost (a confirm racing the loss could go either way).
        ops1.Publisher!.OnConnectionClosed(Lost);

        await WaitUntil(() => ops2.SnapshotFrames().SelectMany(FakeStreamOperations.PublishingIds).Count() >= 3);
        Assert.Contains("declare 3 p s1", ops2.Calls);
        Assert.Contains("query-sequence p s1", ops2.Calls);
        var resent = ops2.SnapshotFrames().SelectMany(FakeStreamOperations.PublishingIds).ToArray();
        Assert.Equal([1ul, 2ul, 3ul], resent);
        foreach (var frame in ops2.SnapshotFrames())
        {
            ops2.ConfirmFrame(frame);
        }

        await Task.WhenAll(sends);
        Assert.Equal(StreamStatus.Recovered, producer.Status);
        Assert.Equal(4ul, producer.NextPublishingId);
    }

    [Fact]
    public async Task Unnamed_producer_fails_written_unconfirmed_messages_with_ProducerRecoveryException_and_continues()
    {
        var ops1 = new FakeStreamOperations();
        var ops2 = new FakeStreamOperations { AutoConfirm = true };
        var connector = new FakeConnector();
        connector.Next.Enqueue(ops2);
        await using var producer = await Producer.CreateAsync(ops1, connector, new ProducerOptions("s1") { Recovery = Immediate }, null, Ct);
        var statuses = new List<StreamStatus>();
        producer.StatusChanged += (_, e) => { lock (statuses) { statuses.Add(e.Status); } };
        var send = producer.SendAsync(new byte[] { 1 }, Ct);
        await WaitUntil(() => ops1.SnapshotFrames().Length == 1);
        ops1.Publisher!.OnConnectionClosed(Lost);
        var ex = await Assert.ThrowsAsync<ProducerRecoveryException>(() => send);
        Assert.Equal(0ul, ex.PublishingId);

        await WaitUntil(() => producer.Status == StreamStatus.Recovered);
        await producer.SendAsync(new byte[] { 2 }, Ct);
        Assert.Single(ops2.SnapshotFrames());
        lock (statuses)
        {
            Assert.Equal([StreamStatus.Reconnecting, StreamStatus.Reconnecting, StreamStatus.Recovered], statuses);
        }
    }

    [Fact]
    public async Task Deleted_stream_fails_pending_with_StreamDeletedException_without_retrying()
    {
        var ops1 = new FakeStreamOperations();
        var connector = new FakeConnector { Deleted = true };
        await using var producer = await Producer.CreateAsync(ops1, connector, new ProducerOptions("s1") { Name = "p", Recovery = Immediate }, null, Ct);
        var send = producer.SendAsync(new byte[] { 1 }, Ct);
        await WaitUntil(() => ops1.SnapshotFrames().Length == 1);
        ops1.Publisher!.OnMetadataUpdate(ResponseCode.StreamNotAvailable);
        await Assert.ThrowsAsync<StreamDeletedException>(() => send);
        await WaitUntil(() => producer.Status == StreamStatus.Failed);
        Assert.False(producer.IsOpen);
    }

    [Fact]
    public void Back_off_grows_exponentially_is_capped_and_jittered()
    {
        var policy = new RecoveryPolicy { InitialDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(10), Jitter = 0.5 };
        Assert.Equal(TimeSpan.FromSeconds(1), policy.GetDelay(1, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(4), policy.GetDelay(3, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(10), policy.GetDelay(20, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(0.5), policy.GetDelay(1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RecoveryPolicy { MaxAttempts = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new RecoveryPolicy { Jitter = 2 }.Validate());
    }
}
