using System.Collections.Concurrent;
using Streams.Client.Compression;
using Streams.Testing;

namespace Streams.Client.Tests.Producers;

/// <summary>
/// <see cref="ProducerOptions.SubEntrySize"/> through the real broker: buffered sends grouped into sub-entry batches
/// with each codec are all confirmed and read back exactly, in order; a named producer's batches are deduplicated
/// under their last message's publishing id.
/// </summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class SubEntryBrokerTests(BrokerFixture fixture)
{
    private const int Count = 2000;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<CompressionType> Codecs() =>
        new(CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd);

    [Theory]
    [MemberData(nameof(Codecs))]
    public async Task Batched_messages_with_each_codec_are_all_confirmed_and_consumed_exactly_in_order(CompressionType compression)
    {
        await using var s = await BrokerStream.CreateAsync(fixture, $"sub-entry-{compression}", Ct, o => o.AddAllCompressionCodecs());
        var confirmations = new ConcurrentQueue<Confirmation>();
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream) { SubEntrySize = 10, Compression = compression }, Ct))
        {
            for (int i = 0; i < Count; i++)
            {
                await producer.Send(BrokerStream.Body(i), c =>
                {
                    confirmations.Enqueue(c);
                    if (confirmations.Count == Count)
                    {
                        all.TrySetResult();
                    }
                }, Ct);
            }

            await all.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
            Assert.Equal(0, producer.UnconfirmedCount);
        }

        Assert.All(confirmations, c => Assert.Equal(ConfirmationStatus.Confirmed, c.Status));
        Assert.Equal(Enumerable.Range(0, Count).Select(i => (ulong)i), confirmations.Select(c => c.PublishingId).Order());

        await using var consumer = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.First }, Ct);
        var read = await BrokerStream.ReadAsync(consumer, Count);
        for (int i = 0; i < Count; i++)
        {
            Assert.Equal((ulong)i, read[i].Offset);
            Assert.Equal(BrokerStream.Body(i), read[i].Body);
        }

        await BrokerStream.AssertNothingMoreAsync(consumer);
        if (compression is CompressionType.Snappy or CompressionType.Lz4 or CompressionType.Zstd)
        {
            // The stream really holds batches compressed with that codec: a consumer without it cannot read them.
            await using var plain = await BrokerStream.CreateAsync(fixture, "sub-entry-plain", Ct);
            await using var blind = await plain.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.First }, Ct);
            var ex = await Assert.ThrowsAsync<UnsupportedCompressionException>(() => BrokerStream.ReadAsync(blind, 1));
            Assert.Equal(compression, ex.Compression);
        }
    }

    [Fact]
    public async Task A_named_producers_batches_are_deduplicated_under_their_last_publishing_id()
    {
        await using var s = await BrokerStream.CreateAsync(fixture, "sub-entry-dedup", Ct);
        var name = BrokerFixture.UniqueName("sub-entry-writer");
        var options = new ProducerOptions(s.Stream) { Name = name, SubEntrySize = 5, Compression = CompressionType.Gzip };

        // Ids 1-20 in 4 batches of 5 (one SendBatchAsync fills and closes each batch): the broker stores the batches'
        // ids, 5, 10, 15 and 20.
        await using (var first = await s.System.CreateProducerAsync(options, Ct))
        {
            Assert.Equal(1ul, first.NextPublishingId);
            await first.SendBatchAsync(Enumerable.Range(0, 20).Select(i => (ReadOnlyMemory<byte>)BrokerStream.Body(i)).ToArray(), Ct);
            Assert.Equal(20ul, await first.GetLastPublishingIdAsync(Ct));
        }

        await using (var second = await s.System.CreateProducerAsync(options, Ct))
        {
            Assert.Equal(21ul, second.NextPublishingId);

            // Re-sending ids 1-20, however they are grouped, makes batches whose last id is at most 20: confirmed, not stored.
            await Task.WhenAll(Enumerable.Range(1, 20).Select(id => second.SendAsync((ulong)id, BrokerStream.Body(1000 + id), Ct)));
            Assert.Equal(20ul, await second.GetLastPublishingIdAsync(Ct));

            await second.SendBatchAsync(Enumerable.Range(20, 5).Select(i => (ReadOnlyMemory<byte>)BrokerStream.Body(i)).ToArray(), Ct);
            Assert.Equal(25ul, await second.GetLastPublishingIdAsync(Ct));
        }

        await using var consumer = await s.System.CreateConsumerAsync(new ConsumerOptions(s.Stream) { Offset = OffsetSpecification.First }, Ct);
        var read = await BrokerStream.ReadAsync(consumer, 25);
        Assert.Equal(Enumerable.Range(0, 25).Select(BrokerStream.Body), read.Select(r => r.Body));
        await BrokerStream.AssertNothingMoreAsync(consumer);
    }
}
