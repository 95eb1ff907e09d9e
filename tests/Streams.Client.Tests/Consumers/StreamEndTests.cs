using Streams.Client.Tests.Producers;
using Streams.Testing;

namespace Streams.Client.Tests.Consumers;

/// <summary><see cref="StreamEnd.ProbeAsync"/> and <see cref="StreamSystemOffsetExtensions.StoreOffsetAndWaitAsync"/> against the broker.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class StreamEndTests(BrokerFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_end_is_the_last_message_not_a_later_stored_offset_and_an_empty_stream_has_none()
    {
        await using var s = await BrokerStream.CreateAsync(fixture, "end", Ct);
        Assert.Null(await StreamEnd.ProbeAsync(s.System, s.Stream, TimeSpan.FromSeconds(10), Ct));

        await using (var producer = await s.System.CreateProducerAsync(new ProducerOptions(s.Stream), Ct))
        {
            await producer.SendBatchAsync(Enumerable.Range(0, 10).Select(i => (ReadOnlyMemory<byte>)BrokerStream.Body(i)).ToArray(), Ct);
        }

        var end = await StreamEnd.ProbeAsync(s.System, s.Stream, TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(9UL, end!.LastOffset);
        Assert.InRange(end.ChunkId, 0UL, 9UL);

        // The stored offset is a tracking record at offset 10: not a message.
        await s.System.StoreOffsetAndWaitAsync("reader", s.Stream, 4, cancellationToken: Ct);
        Assert.Equal(4UL, await s.System.QueryOffsetAsync("reader", s.Stream, Ct));
        Assert.Equal(9UL, (await StreamEnd.ProbeAsync(s.System, s.Stream, TimeSpan.FromSeconds(10), Ct))!.LastOffset);
        Assert.True(end.StartsAfter(OffsetSpecification.Offset(10)));
        Assert.False(end.StartsAfter(OffsetSpecification.Offset(9)));
        Assert.True(end.StartsAfter(OffsetSpecification.Next));
    }

    [Fact]
    public async Task Invalid_arguments_and_a_missing_stream_fail()
    {
        await using var s = await BrokerStream.CreateAsync(fixture, "end-args", Ct);
        await Assert.ThrowsAsync<ArgumentNullException>(() => StreamEnd.ProbeAsync(null!, s.Stream, TimeSpan.FromSeconds(1), Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => StreamEnd.ProbeAsync(s.System, "", TimeSpan.FromSeconds(1), Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => StreamEnd.ProbeAsync(s.System, s.Stream, TimeSpan.Zero, Ct));
        await Assert.ThrowsAsync<StreamDoesNotExistException>(() => StreamEnd.ProbeAsync(s.System, BrokerFixture.UniqueName("end-missing"), TimeSpan.FromSeconds(1), Ct));

        await Assert.ThrowsAsync<ArgumentNullException>(() => StreamSystemOffsetExtensions.StoreOffsetAndWaitAsync(null!, "r", s.Stream, 1, cancellationToken: Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => s.System.StoreOffsetAndWaitAsync("r", s.Stream, 1, TimeSpan.Zero, Ct));
        await Assert.ThrowsAsync<StreamDoesNotExistException>(() => s.System.StoreOffsetAndWaitAsync("r", BrokerFixture.UniqueName("end-missing"), 1, cancellationToken: Ct));
    }
}
