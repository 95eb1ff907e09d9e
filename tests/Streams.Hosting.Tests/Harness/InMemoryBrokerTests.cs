using Microsoft.Extensions.Time.Testing;
using Streams.Client;
using Streams.Hosting.Testing.InMemory;

namespace Streams.Hosting.Tests.Harness;

/// <summary>The harness's broker on its own: what it must do as RabbitMQ does (the scenarios check the same on both).</summary>
public sealed class InMemoryBrokerTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));

    [Fact]
    public void Offset_specifications_resolve_as_on_the_broker_and_tracking_chunks_take_an_offset()
    {
        var broker = new InMemoryBroker(_time);
        broker.CreateStream("s", null);
        broker.Publish("s", [new Message(new byte[] { 0 }), new Message(new byte[] { 1 })]);   // one chunk: offsets 0 and 1
        _time.Advance(TimeSpan.FromSeconds(10));
        broker.StoreOffset("c", "s", 1);                                // a tracking chunk at offset 2
        broker.Publish("s", [new Message(new byte[] { 3 })]);                       // offset 3
        var stream = broker.GetStream("s");

        Assert.Equal([0UL, 3UL], stream.Snapshot().Where(e => e.ChunkId == e.Offset).Select(e => e.Offset));
        Assert.Equal(0UL, stream.Resolve(OffsetSpecification.First));
        Assert.Equal(3UL, stream.Resolve(OffsetSpecification.Last));
        Assert.Equal(4UL, stream.Resolve(OffsetSpecification.Next));
        Assert.Equal(1UL, stream.Resolve(OffsetSpecification.Offset(1)));
        Assert.Equal(4UL, stream.Resolve(OffsetSpecification.Offset(99)));
        Assert.Equal(2UL, stream.Resolve(OffsetSpecification.Timestamp(_time.GetUtcNow())));
        Assert.Equal(1UL, broker.QueryOffset("c", "s"));
        Assert.Null(broker.QueryOffset("other", "s"));
    }

    [Fact]
    public void Declarations_are_idempotent_and_different_arguments_are_refused_with_the_clients_exceptions()
    {
        var broker = new InMemoryBroker(_time);
        Assert.True(broker.CreateStream("s", new StreamSpec { MaxAge = TimeSpan.FromHours(1) }));
        Assert.False(broker.CreateStream("s", new StreamSpec { MaxAge = TimeSpan.FromHours(1) }));
        Assert.Throws<StreamAlreadyExistsWithDifferentArgumentsException>(() => broker.CreateStream("s", new StreamSpec { MaxAge = TimeSpan.FromHours(2) }));
        Assert.Throws<StreamDoesNotExistException>(() => broker.Publish("missing", [new Message(new byte[] { 1 })]));
        Assert.Throws<StreamDoesNotExistException>(() => broker.StoreOffset("c", "missing", 1));
    }

    [Fact]
    public void Super_streams_have_their_partitions_in_order_and_route_by_binding_key()
    {
        var broker = new InMemoryBroker(_time);
        Assert.True(broker.CreateSuperStream("regions", ["regions-eu", "regions-us"], ["eu", "us"], null));
        Assert.False(broker.CreateSuperStream("regions", ["regions-eu", "regions-us"], ["eu", "us"], null));
        Assert.Equal(["regions-eu", "regions-us"], broker.QueryPartitions("regions"));
        Assert.Equal(["regions-us"], broker.QueryRoute("us", "regions"));
        Assert.Empty(broker.QueryRoute("apac", "regions"));
        Assert.Empty(broker.QueryPartitions("nope"));
        Assert.True(broker.StreamExists("regions-eu"));
    }

    [Fact]
    public void Deduplication_drops_ids_not_above_the_last_one_per_reference_and_stream()
    {
        var broker = new InMemoryBroker(_time);
        broker.CreateStream("s", null);
        Assert.Equal(2, broker.Publish("s", [new Message(new byte[] { 1 }), new Message(new byte[] { 2 })], "api", [1, 2]));
        Assert.Equal(1, broker.Publish("s", [new Message(new byte[] { 2 }), new Message(new byte[] { 3 })], "api", [2, 3]));
        Assert.Equal(1, broker.Publish("s", [new Message(new byte[] { 9 })], "other", [1]));     // another reference has its own sequence
        Assert.Equal(3UL, broker.QueryPublishingId("s", "api"));
        Assert.Equal([1, 2, 3, 9], broker.GetStream("s").Snapshot().Select(e => (int)Message.DecodeEntry(e.Bytes).Body.Span[0]));
        Assert.Throws<ArgumentException>(() => broker.Publish("s", [new Message(new byte[] { 1 })], null, [5]));
    }

    [Fact]
    public void Filter_values_are_kept_per_entry()
    {
        var broker = new InMemoryBroker(_time);
        broker.CreateStream("s", null);
        var eu = new Message(new byte[] { 1 }) { ApplicationProperties = new Dictionary<string, object?> { [PublishOptions.FilterValueHeader] = "eu" } };
        broker.Publish("s", [eu, new Message(new byte[] { 2 })]);
        Assert.Equal(["eu", null], broker.GetStream("s").Snapshot().Select(e => e.FilterValue));
    }
}
