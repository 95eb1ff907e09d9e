using System.Buffers.Binary;
using System.Text;
using Streams.Client.Consumers;
using Streams.Client.Tests.Consumers;

namespace Streams.Client.Tests.Hostile;

/// <summary>
/// Issue 13: chunks a broken server sends over a real connection to a real <see cref="Consumer"/>. Each one ends the
/// consumer with a <see cref="ChunkFormatException"/> naming the chunk (on <see cref="Consumer.Completion"/> and from
/// <see cref="Consumer.ReadAllAsync"/>): never an untyped exception, never a message at a wrong offset, never a hang.
/// </summary>
public sealed class MalformedChunkTests
{
    private const ulong ChunkId = 4242;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Cases => new(Chunks.Keys);

    private static readonly Dictionary<string, Func<byte[]>> Chunks = new()
    {
        ["gzip flag on data that is not gzip"] = () => Patch(
            new ChunkBuilder().SubBatch(0, Bytes("a"), Bytes("b")).Build(ChunkId), data: d => d[0] = 0x90),
        ["sub-entry uncompressed length 0xFFFFFFFF"] = () => Patch(
            new ChunkBuilder().SubBatch(1, Bytes("a")).Build(ChunkId), data: d => BinaryPrimitives.WriteUInt32BigEndian(d[3..], 0xFFFF_FFFF)),
        ["sub-entry data length 0xFFFFFFFF"] = () => Patch(
            new ChunkBuilder().SubBatch(0, Bytes("a")).Build(ChunkId), data: d => BinaryPrimitives.WriteUInt32BigEndian(d[7..], 0xFFFF_FFFF)),
        ["sub-entry uncompressed length 2 GiB"] = () => Patch(
            new ChunkBuilder().SubBatch(1, Bytes("a")).Build(ChunkId), data: d => BinaryPrimitives.WriteUInt32BigEndian(d[3..], 0x8000_0000)),
        ["NumRecords lower than the records held"] = () => Patch(
            new ChunkBuilder().Simple(Bytes("a")).Simple(Bytes("b")).Build(ChunkId), header: h => BinaryPrimitives.WriteUInt32BigEndian(h[4..], 1)),
        ["NumRecords higher than the records held"] = () => Patch(
            new ChunkBuilder().Simple(Bytes("a")).Simple(Bytes("b")).Build(ChunkId), header: h => BinaryPrimitives.WriteUInt32BigEndian(h[4..], 3)),
        ["NumEntries lower than the entries held"] = () => Patch(
            new ChunkBuilder().Simple(Bytes("a")).Simple(Bytes("b")).Build(ChunkId), header: h => BinaryPrimitives.WriteUInt16BigEndian(h[2..], 1)),
        ["unknown chunk type"] = () => new ChunkBuilder().Simple(Bytes("a")).Build(ChunkId, type: 7),
        ["sub-entry record count higher than its content"] = () => Patch(
            new ChunkBuilder().SubBatch(0, Bytes("a"), Bytes("b")).Build(ChunkId), data: d => BinaryPrimitives.WriteUInt16BigEndian(d[1..], 3)),
        ["sub-entry record count lower than its content"] = () => Patch(
            new ChunkBuilder().SubBatch(0, Bytes("a"), Bytes("b")).Build(ChunkId), data: d => BinaryPrimitives.WriteUInt16BigEndian(d[1..], 1)),
    };

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private delegate void SpanAction(Span<byte> span);

    /// <summary>Changes the header (not covered by the CRC) or the entry data (then the CRC is recomputed, so the change gets past it).</summary>
    private static byte[] Patch(byte[] chunk, SpanAction? header = null, SpanAction? data = null)
    {
        header?.Invoke(chunk.AsSpan(0, ChunkHeader.Size));
        if (data is not null)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(chunk.AsSpan(36));
            data(chunk.AsSpan(ChunkHeader.Size, length));
            BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(32), System.IO.Hashing.Crc32.HashToUInt32(chunk.AsSpan(ChunkHeader.Size, length)));
        }

        return chunk;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_push_consumer_fails_with_a_typed_error_naming_the_chunk(string name)
    {
        await using var broker = new HostileBroker();
        await using var system = await StreamSystem.ConnectAsync(broker.Options(), Ct);
        var delivered = new List<(ulong Offset, string Body)>();
        await using var consumer = await system.CreateConsumerAsync(
            new ConsumerOptions("hostile")
            {
                Offset = OffsetSpecification.First,
                Handler = (d, _) =>
                {
                    lock (delivered)
                    {
                        delivered.Add((d.Offset, Encoding.UTF8.GetString(d.Body.Span)));
                    }

                    return ValueTask.CompletedTask;
                },
            },
            Ct);
        var (session, id) = await broker.Subscriptions.Reader.ReadAsync(Ct).AsTask().WaitAsync(Wait, Ct);

        await session.SendAsync(HostileSession.Deliver(id, Chunks[name]()));

        var error = await Assert.ThrowsAsync<ChunkFormatException>(() => consumer.Completion.WaitAsync(Wait, Ct));
        Assert.Contains(ChunkId.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        lock (delivered)
        {
            // Whatever reached the handler before the error sat at its true offset.
            Assert.All(delivered, d => Assert.Equal(ChunkId + (ulong)(d.Body[0] - 'a'), d.Offset));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task An_enumeration_throws_the_typed_error(string name)
    {
        await using var broker = new HostileBroker();
        await using var system = await StreamSystem.ConnectAsync(broker.Options(), Ct);
        await using var consumer = await system.CreateConsumerAsync(new ConsumerOptions("hostile") { Offset = OffsetSpecification.First }, Ct);
        var (session, id) = await broker.Subscriptions.Reader.ReadAsync(Ct).AsTask().WaitAsync(Wait, Ct);
        await session.SendAsync(HostileSession.Deliver(id, Chunks[name]()));

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(Wait);
        var error = await Assert.ThrowsAsync<ChunkFormatException>(async () =>
        {
            await foreach (var delivery in consumer.ReadAllAsync(timeout.Token))
            {
                Assert.Equal(ChunkId + (ulong)(delivery.Body.Span[0] - 'a'), delivery.Offset);
            }
        });
        Assert.Contains(ChunkId.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }
}
