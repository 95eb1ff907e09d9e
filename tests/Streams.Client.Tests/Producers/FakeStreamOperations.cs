using System.Buffers.Binary;
using System.Collections.Concurrent;
using Streams.Client.Connections;
using Streams.Client.Producers;

namespace Streams.Client.Tests.Producers;

/// <summary>An in-memory <see cref="IStreamOperations"/> recording frames and calls; confirms on demand.</summary>
internal sealed class FakeStreamOperations : IStreamOperations
{
    private readonly Lock _lock = new();

    public int FrameMax { get; set; } = 1_048_576;

    public bool DeliverV2 { get; set; } = true;

    public bool PublishV2 { get; set; } = true;

    public bool AutoConfirm { get; set; }

    public bool KeepFrames { get; set; } = true;

    public IPublisherFrameHandler? Publisher { get; private set; }

    public ISubscriptionFrameHandler? Subscription { get; private set; }

    public List<byte[]> Frames { get; } = [];

    public ConcurrentQueue<string> Calls { get; } = new();

    public ConcurrentQueue<(byte Id, ushort Credit)> Credits { get; } = new();

    public ulong PublisherSequence { get; set; }

    public ulong? StoredOffset { get; set; }

    public Exception? DeclareError { get; set; }

    public TaskCompletionSource? WriteGate { get; set; }

    public bool Released { get; private set; }

    public event EventHandler<ConnectionClosedEventArgs>? Closed;

    public void RaiseClosed(ConnectionClosedEventArgs args) => Closed?.Invoke(this, args);

    public byte RegisterPublisher(string stream, IPublisherFrameHandler handler)
    {
        Publisher = handler;
        Calls.Enqueue($"register-publisher {stream}");
        return 3;
    }

    public void UnregisterPublisher(byte publisherId) => Calls.Enqueue($"unregister-publisher {publisherId}");

    public byte RegisterSubscription(string stream, ISubscriptionFrameHandler handler)
    {
        Subscription = handler;
        Calls.Enqueue($"register-subscription {stream}");
        return 5;
    }

    public void UnregisterSubscription(byte subscriptionId) => Calls.Enqueue($"unregister-subscription {subscriptionId}");

    public Task DeclarePublisherAsync(byte publisherId, string? reference, string stream, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"declare {publisherId} {reference} {stream}");
        return DeclareError is null ? Task.CompletedTask : Task.FromException(DeclareError);
    }

    public Task DeletePublisherAsync(byte publisherId, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"delete {publisherId}");
        return Task.CompletedTask;
    }

    public Task<ulong> QueryPublisherSequenceAsync(string reference, string stream, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"query-sequence {reference} {stream}");
        return Task.FromResult(PublisherSequence);
    }

    public Task SubscribeAsync(byte subscriptionId, string stream, OffsetSpecification offset, ushort credit, IReadOnlyDictionary<string, string>? properties, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"subscribe {subscriptionId} {stream} {offset} {credit}");
        return Task.CompletedTask;
    }

    public Task UnsubscribeAsync(byte subscriptionId, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"unsubscribe {subscriptionId}");
        return Task.CompletedTask;
    }

    public ValueTask CreditAsync(byte subscriptionId, ushort credit)
    {
        Credits.Enqueue((subscriptionId, credit));
        return default;
    }

    public ValueTask StoreOffsetAsync(string reference, string stream, ulong offset)
    {
        Calls.Enqueue($"store {reference} {stream} {offset}");
        StoredOffset = offset;
        return default;
    }

    public Task<ulong?> QueryOffsetAsync(string reference, string stream, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"query-offset {reference} {stream}");
        return Task.FromResult(StoredOffset);
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        if (WriteGate is { } gate)
        {
            await gate.Task;
        }

        if (!KeepFrames)
        {
            if (AutoConfirm)
            {
                ConfirmFrameInPlace(frame.Span);
            }

            return;
        }

        var copy = frame.ToArray();
        lock (_lock)
        {
            Frames.Add(copy);
        }

        if (AutoConfirm)
        {
            ConfirmFrame(copy);
        }
    }

    public ValueTask ReleaseAsync()
    {
        Released = true;
        return default;
    }

    public byte[][] SnapshotFrames()
    {
        lock (_lock)
        {
            return [.. Frames];
        }
    }

    private byte[] _confirmBuffer = new byte[8 * 1024];

    /// <summary>Confirms a v1 simple-entry frame without allocating (for allocation tests).</summary>
    private void ConfirmFrameInPlace(ReadOnlySpan<byte> frame)
    {
        int count = (int)BinaryPrimitives.ReadUInt32BigEndian(frame[9..]);
        if (_confirmBuffer.Length < count * 8)
        {
            _confirmBuffer = new byte[count * 8];
        }

        int p = 13;
        for (int i = 0; i < count; i++)
        {
            frame.Slice(p, 8).CopyTo(_confirmBuffer.AsSpan(i * 8));
            p += 8;
            p += 4 + (int)BinaryPrimitives.ReadUInt32BigEndian(frame[p..]);
        }

        Publisher!.OnConfirm(_confirmBuffer.AsSpan(0, count * 8), count);
    }

    /// <summary>Sends a PublishConfirm for every publishing id in a v1/v2 Publish frame.</summary>
    public void ConfirmFrame(byte[] frame) => Confirm([.. PublishingIds(frame)]);

    public void Confirm(params ulong[] ids)
    {
        var bytes = new byte[ids.Length * 8];
        for (int i = 0; i < ids.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(i * 8), ids[i]);
        }

        Publisher!.OnConfirm(bytes, ids.Length);
    }

    /// <summary>Publishing ids of a Publish frame (v1 simple/sub-batch entries, v2 entries).</summary>
    public static List<ulong> PublishingIds(byte[] frame)
    {
        var ids = new List<ulong>();
        var span = frame.AsSpan();
        ushort version = BinaryPrimitives.ReadUInt16BigEndian(span[6..]);
        int count = (int)BinaryPrimitives.ReadUInt32BigEndian(span[9..]);
        int p = 13;
        for (int i = 0; i < count; i++)
        {
            ids.Add(BinaryPrimitives.ReadUInt64BigEndian(span[p..]));
            p += 8;
            if (version == 2)
            {
                short f = BinaryPrimitives.ReadInt16BigEndian(span[p..]);
                p += 2 + Math.Max((int)f, 0);
            }

            if ((span[p] & 0x80) != 0 && version == 1)
            {
                int dataLength = (int)BinaryPrimitives.ReadUInt32BigEndian(span[(p + 7)..]);
                p += 11 + dataLength;
            }
            else
            {
                int length = (int)BinaryPrimitives.ReadUInt32BigEndian(span[p..]);
                p += 4 + length;
            }
        }

        return ids;
    }

    /// <summary>The message bodies of a v1 Publish frame with simple entries.</summary>
    public static List<byte[]> Bodies(byte[] frame)
    {
        var bodies = new List<byte[]>();
        var span = frame.AsSpan();
        ushort version = BinaryPrimitives.ReadUInt16BigEndian(span[6..]);
        int count = (int)BinaryPrimitives.ReadUInt32BigEndian(span[9..]);
        int p = 13;
        for (int i = 0; i < count; i++)
        {
            p += 8;
            if (version == 2)
            {
                short f = BinaryPrimitives.ReadInt16BigEndian(span[p..]);
                p += 2 + Math.Max((int)f, 0);
            }

            int length = (int)BinaryPrimitives.ReadUInt32BigEndian(span[p..]);
            bodies.Add(span.Slice(p + 4, length).ToArray());
            p += 4 + length;
        }

        return bodies;
    }
}
