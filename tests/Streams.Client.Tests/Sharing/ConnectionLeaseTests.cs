using Streams.Client.Connections.Sharing;
using Streams.Client.Producers;
using Streams.Client.Tests.Connections;
using Streams.Testing;

namespace Streams.Client.Tests.Sharing;

/// <summary>
/// Issue 16 item 1: on a shared connection an entity only ever touches the ids it holds, and an id whose removal went
/// unanswered is never handed to another entity. (The frame handlers are the do-nothing one of retired ids.)
/// </summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
[Trait("Category", "LocalBroker")]
public sealed class ConnectionLeaseTests(BrokerFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_lease_ignores_ids_it_does_not_hold_and_releases_once()
    {
        await using var connection = await TestConnections.ConnectAsync(fixture.Endpoint);
        int released = 0;
        var a = new StreamConnectionOperations(connection, () => { Interlocked.Increment(ref released); return ValueTask.CompletedTask; });
        var b = new StreamConnectionOperations(connection, ownsConnection: false);
        var stream = BrokerFixture.UniqueName("lease");
        Assert.True(await connection.CreateStreamAsync(stream, null, Ct));
        try
        {
            byte mine = a.RegisterSubscription(stream, RetiredIdHandler.Instance);
            byte theirs = b.RegisterSubscription(stream, RetiredIdHandler.Instance);
            await b.SubscribeAsync(theirs, stream, OffsetSpecification.First, 1, null, Ct);

            // A stale call from lease a with b's id: nothing reaches the connection or the broker.
            a.UnregisterSubscription(theirs);
            await a.UnsubscribeAsync(theirs, Ct);
            await a.CreditAsync(theirs, 1);
            a.UnregisterPublisher(theirs);
            Assert.Equal(2, connection.SubscriptionCount);

            a.UnregisterSubscription(mine);
            a.UnregisterSubscription(mine);
            Assert.Equal(1, connection.SubscriptionCount);

            // b's subscription still exists on the broker: unsubscribing it succeeds (a second time it would not).
            await b.UnsubscribeAsync(theirs, Ct);
            await Assert.ThrowsAsync<SubscriptionIdException>(() => connection.UnsubscribeAsync(theirs, Ct));
            b.UnregisterSubscription(theirs);
            Assert.Equal(0, connection.SubscriptionCount);

            await a.ReleaseAsync();
            await a.ReleaseAsync();
            Assert.Equal(1, released);
            Assert.True(connection.IsOpen);
        }
        finally
        {
            await connection.DeleteStreamAsync(stream, CancellationToken.None);
        }
    }

    [Fact]
    public async Task An_id_whose_DeletePublisher_went_unanswered_is_never_reused_on_that_connection()
    {
        await using var connection = await TestConnections.ConnectAsync(fixture.Endpoint);
        var stream = BrokerFixture.UniqueName("retired");
        Assert.True(await connection.CreateStreamAsync(stream, null, Ct));
        try
        {
            byte retired = connection.RegisterPublisher(stream, RetiredIdHandler.Instance);
            await connection.DeclarePublisherAsync(retired, null, stream, Ct);
            using (var gaveUp = new CancellationTokenSource())
            {
                await gaveUp.CancelAsync();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connection.DeletePublisherAsync(retired, gaveUp.Token));
            }

            connection.UnregisterPublisher(retired);
            Assert.Equal(1, connection.RetiredPublisherCount);
            Assert.Equal(1, connection.PublisherCount);

            var handedOut = new HashSet<byte>();
            for (int i = 0; i < 255; i++)
            {
                handedOut.Add(connection.RegisterPublisher(stream, RetiredIdHandler.Instance));
            }

            Assert.Equal(255, handedOut.Count);
            Assert.DoesNotContain(retired, handedOut);
            Assert.Throws<StreamClientException>(() => connection.RegisterPublisher(stream, RetiredIdHandler.Instance));
        }
        finally
        {
            await connection.DeleteStreamAsync(stream, CancellationToken.None);
        }
    }
}
