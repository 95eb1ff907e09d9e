using System.Buffers.Binary;
using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace Streams.Client.Tests.Producers;

[Collection(Streams.Testing.AllocationSensitiveCollection.Name)]
public sealed class ProducerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<Producer> Create(FakeStreamOperations ops, Action<ProducerOptions>? configure = null)
    {
        var options = new ProducerOptions("s1");
        configure?.Invoke(options);
        return Producer.CreateAsync(ops, options, null, Ct);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(5, Ct);
        }
    }

    [Fact]
    public async Task Options_are_validated_with_clear_messages()
    {
        Assert.Throws<ArgumentException>(() => new ProducerOptions(" "));
        var ex = Assert.Throws<ArgumentException>(() => new ProducerOptions("s") { Name = new string('n', 256) }.Validate());
        Assert.Contains("255", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProducerOptions("s") { MaxUnconfirmed = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProducerOptions("s") { BatchSize = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProducerOptions("s") { ConfirmTimeout = TimeSpan.Zero }.Validate());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Create(new FakeStreamOperations(), o => o.MaxUnconfirmed = -1));
    }

    [Fact]
    public async Task Declares_and_resumes_after_the_stored_sequence_for_named_producers()
    {
        var ops = new FakeStreamOperations { PublisherSequence = 41 };
        await using var producer = await Create(ops, o => o.Name = "ref");
        Assert.Equal(42ul, producer.NextPublishingId);
        Assert.Contains("declare 3 ref s1", ops.Calls);
        Assert.Equal(41ul, await producer.GetLastPublishingIdAsync(Ct));
    }

    [Fact]
    public async Task Declare_failure_unregisters_and_throws()
    {
        var ops = new FakeStreamOperations { DeclareError = new StreamDoesNotExistException("s1", "missing") };
        await Assert.ThrowsAsync<StreamDoesNotExistException>(() => Create(ops));
        Assert.Contains("unregister-publisher 3", ops.Calls);
    }

    [Fact]
    public async Task Buffered_sends_pack_into_byte_exact_v1_frames()
    {
        var ops = new FakeStreamOperations { WriteGate = new TaskCompletionSource() };
        await using var producer = await Create(ops, o => o.BatchSize = 3);
        var confirmed = new ConcurrentQueue<Confirmation>();
        for (int i = 0; i < 7; i++)
        {
            await producer.Send(new byte[] { (byte)i }, confirmed.Enqueue, Ct);
        }

        ops.WriteGate.SetResult();
        await WaitUntil(() => ops.SnapshotFrames().Sum(f => FakeStreamOperations.PublishingIds(f).Count) == 7);
        var frames = ops.SnapshotFrames();
        Assert.True(frames.Length >= 3);
        Assert.All(frames, f => Assert.True(FakeStreamOperations.PublishingIds(f).Count <= 3));

        // The first frame holds what the sender had queued when it built it (1 to 3 messages, depending on how the
        // scheduler interleaved it with the sends); its bytes must be exact for that count.
        var count = FakeStreamOperations.PublishingIds(frames[0]).Count;
        Assert.InRange(count, 1, 3);
        var first = new List<byte> { 0, 0, 0, (byte)(9 + (count * 13)), 0, 2, 0, 1, 3, 0, 0, 0, (byte)count };
        for (var i = 0; i < count; i++)
        {
            first.AddRange([0, 0, 0, 0, 0, 0, 0, (byte)i, 0, 0, 0, 1, (byte)i]);
        }

        Assert.Equal(first, frames[0]);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => (ulong)i), frames.SelectMany(FakeStreamOperations.PublishingIds));

        foreach (var f in frames)
        {
            ops.ConfirmFrame(f);
        }

        Assert.Equal(7, confirmed.Count);
        Assert.All(confirmed, c => Assert.Equal(ConfirmationStatus.Confirmed, c.Status));
        Assert.Equal(0, producer.UnconfirmedCount);
    }

    [Fact]
    public async Task SendAsync_completes_only_on_confirm()
    {
        var ops = new FakeStreamOperations();
        await using var producer = await Create(ops);
        var send = producer.SendAsync(new byte[] { 1, 2 }, Ct);
        await WaitUntil(() => ops.SnapshotFrames().Length == 1);
        await Task.Delay(20, Ct);
        Assert.False(send.IsCompleted);
        ops.Confirm(0);
        await send;
    }

    [Fact]
    public async Task Confirms_out_of_order_and_errors_complete_the_right_messages()
    {
        var ops = new FakeStreamOperations();
        await using var producer = await Create(ops);
        var results = new ConcurrentDictionary<ulong, Confirmation>();
        for (int i = 0; i < 5; i++)
        {
            await producer.Send(new byte[] { 0 }, c => results[c.PublishingId] = c, Ct);
        }

        await WaitUntil(() => ops.SnapshotFrames().Sum(f => FakeStreamOperations.PublishingIds(f).Count) == 5);
        ops.Confirm(3, 1);
        ops.Publisher!.OnError(2, ResponseCode.PublisherDoesNotExist);
        Assert.Equal(5, producer.UnconfirmedCount); // head (0) still pending
        ops.Confirm(0, 4);
        Assert.Equal(0, producer.UnconfirmedCount);
        Assert.Equal(ConfirmationStatus.Rejected, results[2].Status);
        Assert.Equal(ResponseCode.PublisherDoesNotExist, results[2].Code);
        Assert.All(new ulong[] { 0, 1, 3, 4 }, id => Assert.True(results[id].IsConfirmed));

        // Unknown and duplicate confirms are ignored.
        ops.Confirm(3, 99);
    }

    [Fact]
    public async Task Publish_error_surfaces_as_PublishException_with_id_and_code()
    {
        var ops = new FakeStreamOperations();
        await using var producer = await Create(ops);
        var send = producer.SendAsync(7, new byte[] { 1 }, Ct);
        await WaitUntil(() => ops.SnapshotFrames().Length == 1);
        ops.Publisher!.OnError(7, ResponseCode.PreconditionFailed);
        var ex = await Assert.ThrowsAsync<PublishException>(() => send);
        Assert.Equal(7ul, ex.PublishingId);
        Assert.Equal(ResponseCode.PreconditionFailed, ex.Code);
        Assert.Equal(8ul, producer.NextPublishingId);
    }

    [Fact]
    public async Task Unconfirmed_messages_time_out()
    {
        var ops = new FakeStreamOperations();
        await using var producer = await Create(ops, o => o.ConfirmTimeout = TimeSpan.FromMilliseconds(100));
        var ex = await Assert.ThrowsAsync<ConfirmationTimeoutException>(() => producer.SendAsync(new byte[] { 1 }, Ct));
        Assert.Equal(0ul, ex.PublishingId);
        Assert.Equal(0, producer.UnconfirmedCount);
    }

    [Fact]
    public async Task Back_pressure_waits_for_room_without_dropping()
    {
        var ops = new FakeStreamOperations();
        await using var producer = await Create(ops, o => o.MaxUnconfirmed = 2);
        int confirmed = 0;
        await producer.Send(new byte[] { 1 }, _ => Interlocked.Increment(ref confirmed), Ct);
        await producer.Send(new byte[] { 2 }, _ => Interlocked.Increment(ref confirmed), Ct);
        var third = producer.Send(new byte[] { 3 }, _ => Interlocked.Increment(ref confirmed), Ct).AsTask();
        await Task.Delay(50, Ct);
        Assert.False(third.IsCompleted);
        Assert.Equal(2, producer.UnconfirmedCount);
        ops.Confirm(0);
        await third;
        await WaitUntil(() => ops.SnapshotFrames().Sum(f => FakeStreamOperations.PublishingIds(f).Count) == 3);
        ops.Confirm(1, 2);
        Assert.Equal(3, confirmed);
    }

    [Fact]
    public async Task Frame_too_large_is_refused_before_sending_and_the_producer_stays_usable()
    {
        var ops = new FakeStreamOperations { FrameMax = 100, AutoConfirm = true };
        await using var producer = await Create(ops);
        var ex = await Assert.ThrowsAsync<FrameTooLargeException>(() => producer.SendAsync(new byte[100 - 13 - 12 + 1], Ct));
        Assert.Equal(101, ex.FrameSize);
        await producer.SendAsync(new byte[100 - 13 - 12], Ct);
        Assert.Single(ops.SnapshotFrames());
        Assert.Equal(100, ops.SnapshotFrames()[0].Length);
    }

    [Fact]
    public async Task Frames_never_exceed_frame_max()
    {
        var ops = new FakeStreamOperations { FrameMax = 1000, AutoConfirm = true };
        await using var producer = await Create(ops, o => o.BatchSize = 1000);
        var bodies = Enumerable.Range(0, 100).Select(i => (ReadOnlyMemory<byte>)new byte[50 + i]).ToArray();
        await producer.SendBatchAsync(bodies, Ct);
        var frames = ops.SnapshotFrames();
        Assert.All(frames, f => Assert.True(f.Length <= 1000));
        Assert.Equal(100, frames.Sum(f => FakeStreamOperations.PublishingIds(f).Count));
        Assert.Equal(bodies.Select(b => b.Length), frames.SelectMany(FakeStreamOperations.Bodies).Select(b => b.Length));
    }

    [Fact]
    public async Task Batch_with_one_failure_fails()
    {
        var ops = new FakeStreamOperations();
        await using var producer = await Create(ops);
        var batch = producer.SendBatchAsync([new byte[] { 1 }, new byte[] { 2 }, new byte[] { 3 }], Ct);
        await WaitUntil(() => ops.SnapshotFrames().Sum(f => FakeStreamOperations.PublishingIds(f).Count) == 3);
        ops.Confirm(0, 2);
        Assert.False(batch.IsCompleted);
        ops.Publisher!.OnError(1, ResponseCode.PreconditionFailed);
        var ex = await Assert.ThrowsAsync<PublishException>(() => batch);
        Assert.Equal(1ul, ex.PublishingId);
    }

    [Fact]
    public async Task Sub_entry_uses_one_publishing_id_and_a_v1_frame()
    {
        var ops = new FakeStreamOperations { AutoConfirm = true };
        await using var producer = await Create(ops);
        await producer.SendAsync(new byte[] { 9 }, Ct);
        await producer.SendSubEntryAsync([new byte[] { 1 }, new byte[] { 2, 3 }], CompressionType.None, Ct);
        await producer.SendAsync(new byte[] { 8 }, Ct);
        var frames = ops.SnapshotFrames();
        Assert.Equal(3, frames.Length);
        var sub = frames[1];
        Assert.Equal(1, BinaryPrimitives.ReadUInt16BigEndian(sub.AsSpan(6)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(sub.AsSpan(9)));
        Assert.Equal(1ul, BinaryPrimitives.ReadUInt64BigEndian(sub.AsSpan(13)));
        Assert.Equal(0x80, sub[21]);
        Assert.Equal([2ul], FakeStreamOperations.PublishingIds(frames[2]));
    }

    [Fact]
    public async Task Filter_values_use_publish_v2()
    {
        var ops = new FakeStreamOperations { AutoConfirm = true };
        await using var producer = await Create(ops, o => o.FilterValue = m => m.ApplicationProperties?["region"] as string);
        var message = new Message(new byte[] { 0xAB }) { ApplicationProperties = new Dictionary<string, object?> { ["region"] = "eu" } };
        await producer.SendAsync(message, Ct);
        var frame = ops.SnapshotFrames()[0];
        Assert.Equal(2, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(6)));
        Assert.Equal(2, BinaryPrimitives.ReadInt16BigEndian(frame.AsSpan(21)));
        Assert.Equal("eu"u8.ToArray(), frame.AsSpan(23, 2).ToArray());
        var body = FakeStreamOperations.Bodies(frame)[0];
        Assert.Equal(0xAB, Streams.Client.Amqp.AmqpMessageCodec.Decode(body).Body.Span[0]);

        var noV2 = new FakeStreamOperations { PublishV2 = false };
        await Assert.ThrowsAsync<NotSupportedException>(() => Create(noV2, o => o.FilterValue = _ => "x"));
    }

    [Fact]
    public async Task Dispose_drains_in_flight_messages()
    {
        var ops = new FakeStreamOperations { WriteGate = new TaskCompletionSource(), AutoConfirm = true };
        var producer = await Create(ops);
        int confirmed = 0;
        for (int i = 0; i < 500; i++)
        {
            await producer.Send(new byte[] { 1 }, c => { if (c.IsConfirmed) { Interlocked.Increment(ref confirmed); } }, Ct);
        }

        var dispose = producer.DisposeAsync().AsTask();
        ops.WriteGate.SetResult();
        await dispose;
        Assert.Equal(500, confirmed);
        Assert.Contains("delete 3", ops.Calls);
        Assert.Contains("unregister-publisher 3", ops.Calls);
        Assert.True(ops.Released);
        await Assert.ThrowsAsync<ProducerClosedException>(() => producer.SendAsync(new byte[] { 1 }, Ct));
    }

    [Fact]
    public async Task Dispose_fails_what_is_not_confirmed_within_the_drain_timeout()
    {
        var ops = new FakeStreamOperations();
        var producer = await Create(ops, o => o.DrainTimeout = TimeSpan.FromMilliseconds(50));
        var send = producer.SendAsync(new byte[] { 1 }, Ct);
        await producer.DisposeAsync();
        var ex = await Assert.ThrowsAsync<ProducerClosedException>(() => send);
        Assert.Equal(0ul, ex.PublishingId);
    }

    [Fact]
    public async Task Metadata_update_and_connection_loss_fail_pending_messages()
    {
        var ops = new FakeStreamOperations();
        await using var producer = await Create(ops);
        var send = producer.SendAsync(new byte[] { 1 }, Ct);
        await WaitUntil(() => ops.SnapshotFrames().Length == 1);
        ops.Publisher!.OnMetadataUpdate(ResponseCode.StreamNotAvailable);
        var ex = await Assert.ThrowsAsync<ProducerClosedException>(() => send);
        Assert.Equal(ResponseCode.StreamNotAvailable, ex.Code);
        Assert.False(producer.IsOpen);
        await Assert.ThrowsAsync<ProducerClosedException>(() => producer.Send(new byte[] { 1 }, _ => { }, Ct).AsTask());
    }

    [Fact]
    public async Task Explicit_ids_out_of_order_are_still_matched()
    {
        var ops = new FakeStreamOperations();
        await using var producer = await Create(ops, o => o.Name = "dedup");
        var results = new ConcurrentDictionary<ulong, bool>();
        foreach (ulong id in new ulong[] { 5, 6, 7, 5, 6 })
        {
            await producer.Send(id, new byte[] { 1 }, c => results[c.PublishingId] = c.IsConfirmed, Ct);
        }

        await WaitUntil(() => ops.SnapshotFrames().Sum(f => FakeStreamOperations.PublishingIds(f).Count) == 5);
        ops.Confirm(5, 6, 7, 5, 6);
        Assert.Equal(0, producer.UnconfirmedCount);
        Assert.Equal(8ul, producer.NextPublishingId);
    }

    [Fact]
    public async Task Buffered_send_does_not_allocate_per_message()
    {
        var ops = new FakeStreamOperations { AutoConfirm = true, KeepFrames = false };
        await using var producer = await Create(ops);
        ReadOnlyMemory<byte> body = new byte[100];
        Action<Confirmation> callback = static _ => { };
        for (int i = 0; i < 50_000; i++)
        {
            await producer.Send(body, callback, Ct); // warm up
        }

        const int N = 200_000;

        // Count what the sending code allocates on whichever thread it runs (an await may resume elsewhere).
        long allocated = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < N; i++)
        {
            var pending = producer.Send(body, callback, Ct);
            if (!pending.IsCompletedSuccessfully)
            {
                allocated += GC.GetAllocatedBytesForCurrentThread() - before;
                await pending;
                before = GC.GetAllocatedBytesForCurrentThread();
            }
        }

        allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        long perMessage = allocated / N;
        Assert.True(perMessage <= 4, $"{perMessage} bytes per message");
    }

    [Fact]
    public async Task Confirm_timeout_follows_the_TimeProvider()
    {
        var time = new FakeTimeProvider();
        var ops = new FakeStreamOperations();
        await using var producer = await Create(ops, o =>
        {
            o.TimeProvider = time;
            o.ConfirmTimeout = TimeSpan.FromSeconds(30);
        });
        var results = new ConcurrentQueue<Confirmation>();
        await producer.Send(new byte[] { 1 }, results.Enqueue, Ct);
        time.Advance(TimeSpan.FromSeconds(20));
        await producer.Send(new byte[] { 2 }, results.Enqueue, Ct);
        Assert.Empty(results);
        time.Advance(TimeSpan.FromSeconds(11)); // first is 31 s old, second 11 s
        var first = Assert.Single(results);
        Assert.Equal(0ul, first.PublishingId);
        Assert.Equal(ConfirmationStatus.TimedOut, first.Status);
        Assert.IsType<ConfirmationTimeoutException>(first.ToException(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, producer.UnconfirmedCount);

        // A late confirm of the timed-out message is ignored; the other one still confirms.
        ops.Confirm(0, 1);
        Assert.Equal(2, results.Count);
        Assert.True(results.Last().IsConfirmed);
        Assert.Equal(0, producer.UnconfirmedCount);
    }

    [Fact]
    public async Task Cancelling_a_send_waiting_for_room_does_not_send_it()
    {
        var ops = new FakeStreamOperations();
        await using var producer = await Create(ops, o => o.MaxUnconfirmed = 1);
        await producer.Send(new byte[] { 1 }, _ => { }, Ct);
        using var cts = new CancellationTokenSource();
        var waiting = producer.Send(new byte[] { 2 }, _ => { }, cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        ops.Confirm(0);
        await producer.Send(new byte[] { 3 }, _ => { }, Ct);
        await WaitUntil(() => ops.SnapshotFrames().Sum(f => FakeStreamOperations.PublishingIds(f).Count) == 2);
        Assert.Equal([0ul, 1ul], ops.SnapshotFrames().SelectMany(FakeStreamOperations.PublishingIds));
        Assert.Equal([new byte[] { 1 }, new byte[] { 3 }], ops.SnapshotFrames().SelectMany(FakeStreamOperations.Bodies));
        ops.Confirm(1);
    }
}
