using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Streams.Client.Connections;
using Streams.Client.Protocol;
using Streams.Testing;

namespace Streams.Client.Tests.Connections;

[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class StreamConnectionTests(BrokerFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>An AMQP 1.0 message: amqp-value section with str8 "hi".</summary>
    private static readonly byte[] AmqpHi = [0x00, 0x53, 0x77, 0xa1, 0x02, 0x68, 0x69];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private StreamConnectionSettings With(Func<StreamConnectionSettings, StreamConnectionSettings> change) => change(TestConnections.Settings(fixture.Endpoint));

    private static StreamConnectionSettings Copy(StreamConnectionSettings s, uint? frameMax = null, TimeSpan? heartbeat = null, string? user = null, string? password = null, string? vhost = null) => new()
    {
        Host = s.Host,
        Port = s.Port,
        UserName = user ?? s.UserName,
        Password = password ?? s.Password,
        VirtualHost = vhost ?? s.VirtualHost,
        ConnectionName = s.ConnectionName,
        RequestedFrameMax = frameMax ?? s.RequestedFrameMax,
        RequestedHeartbeat = heartbeat ?? s.RequestedHeartbeat,
    };

    [Fact]
    public async Task Handshake_negotiates_and_exposes_server_properties()
    {
        await using var connection = await TestConnections.ConnectAsync(fixture.Endpoint);

        Assert.True(connection.IsOpen);
        Assert.Equal("RabbitMQ", connection.ServerProperties["product"]);
        Assert.True(connection.ServerProperties.ContainsKey("version"));
        Assert.True(connection.ServerProperties.ContainsKey("cluster_name"));
        Assert.Equal(1_048_576, connection.FrameMax);
        // The broker proposes 60 s; the client's default 10 s is smaller and wins (dead-peer timeout: twice that).
        Assert.Equal(TimeSpan.FromSeconds(10), connection.Heartbeat);
        Assert.Equal(TimeSpan.FromSeconds(20), connection.DeadPeerTimeout);
        Assert.True(connection.DeliverV2);
        Assert.True(connection.PublishV2);
        Assert.False(string.IsNullOrEmpty(connection.AdvertisedHost));
        Assert.Equal(5552, connection.AdvertisedPort);
    }

    [Fact]
    public async Task Handshake_uses_the_smaller_requested_frame_max_and_heartbeat()
    {
        await using var connection = await TestConnections.ConnectAsync(With(s => Copy(s, frameMax: 65536, heartbeat: TimeSpan.FromSeconds(20))));

        Assert.Equal(65536, connection.FrameMax);
        Assert.Equal(TimeSpan.FromSeconds(20), connection.Heartbeat);
    }

    [Fact]
    public async Task Connection_name_is_visible_in_the_management_api()
    {
        var name = BrokerFixture.UniqueName("core-named");
        await using var connection = await TestConnections.ConnectAsync(TestConnections.Settings(fixture.Endpoint, name));

        using var http = new HttpClient { BaseAddress = fixture.Endpoint.ManagementUri };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{fixture.Endpoint.UserName}:{fixture.Endpoint.Password}")));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        var seen = new List<string>();
        while (DateTime.UtcNow < deadline)
        {
            using var doc = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/connections?columns=client_properties", UriKind.Relative), Ct));
            seen.Clear();
            foreach (var c in doc.RootElement.EnumerateArray())
            {
                if (c.TryGetProperty("client_properties", out var props) && props.TryGetProperty("connection_name", out var n))
                {
                    seen.Add(n.GetString()!);
                }
            }

            if (seen.Contains(name))
            {
                return;
            }

            await Task.Delay(500, Ct);
        }

        Assert.Fail($"Connection '{name}' not listed by the management API; saw: {string.Join(", ", seen)}");
    }

    [Fact]
    public async Task Bad_password_throws_AuthenticationFailureException()
    {
        var ex = await Assert.ThrowsAsync<AuthenticationFailureException>(() => TestConnections.ConnectAsync(With(s => Copy(s, password: "definitely-wrong"))));
        Assert.Equal(ResponseCode.AuthenticationFailure, ex.Code);
        Assert.Contains(fixture.Endpoint.UserName, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_vhost_throws_VirtualHostAccessFailureException()
    {
        var ex = await Assert.ThrowsAsync<VirtualHostAccessFailureException>(() => TestConnections.ConnectAsync(With(s => Copy(s, vhost: "no-such-vhost-" + Guid.NewGuid().ToString("N")))));
        Assert.Equal(ResponseCode.VirtualHostAccessFailure, ex.Code);
        Assert.Contains("no-such-vhost-", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Frame_too_large_is_refused_before_writing_and_the_connection_stays_usable()
    {
        await using var connection = await TestConnections.ConnectAsync(With(s => Copy(s, frameMax: 4096)));
        Assert.Equal(4096, connection.FrameMax);

        var frame = new byte[5000];
        var ex = await Assert.ThrowsAsync<FrameTooLargeException>(async () => await connection.WriteAsync(frame, Ct));
        Assert.Equal(5000, ex.FrameSize);
        Assert.Equal(4096, ex.FrameMax);
        Assert.Throws<FrameTooLargeException>(() => connection.EnsureFitsFrameMax(4097));
        connection.EnsureFitsFrameMax(4096);

        await Assert.ThrowsAsync<FrameTooLargeException>(() => connection.QueryMetadataAsync([new string('x', 5000)], Ct));

        Assert.True(connection.IsOpen);
        var metadata = await connection.QueryMetadataAsync([BrokerFixture.UniqueName("missing")], Ct);
        Assert.Equal(ResponseCode.StreamDoesNotExist, Assert.Single(metadata.Streams).Code);
    }

    [Fact]
    public async Task Graceful_close_raises_Closed_once_with_Application()
    {
        var connection = await TestConnections.ConnectAsync(fixture.Endpoint);
        var events = new List<ConnectionClosedEventArgs>();
        connection.Closed += (_, e) => events.Add(e);
        var publisher = new RecordingPublisherHandler();
        connection.RegisterPublisher("any", publisher);

        await connection.CloseAsync(Ct);
        await connection.CloseAsync(Ct);
        await connection.DisposeAsync();

        var closed = Assert.Single(events);
        Assert.Equal(ConnectionCloseKind.Application, closed.Kind);
        Assert.False(connection.IsOpen);
        Assert.Equal(ConnectionCloseKind.Application, (await publisher.ConnectionClosed.Task.WaitAsync(Wait, Ct)).Kind);
    }

    [Fact]
    public async Task Requests_after_close_throw_StreamConnectionClosedException()
    {
        var connection = await TestConnections.ConnectAsync(fixture.Endpoint);
        await connection.CloseAsync(Ct);

        await Assert.ThrowsAsync<StreamConnectionClosedException>(() => connection.QueryOffsetAsync("r", "s", Ct));
        await Assert.ThrowsAsync<StreamConnectionClosedException>(async () => await connection.WriteAsync(Requests.Heartbeat, Ct));
        await Assert.ThrowsAsync<StreamConnectionClosedException>(async () => await connection.CreditAsync(0, 1));
        Assert.Throws<StreamConnectionClosedException>(() => connection.RegisterPublisher("s", new RecordingPublisherHandler()));
    }

    [Fact]
    public async Task Short_heartbeat_keeps_the_connection_alive()
    {
        await using var connection = await TestConnections.ConnectAsync(With(s => Copy(s, heartbeat: TimeSpan.FromSeconds(1))));
        Assert.Equal(TimeSpan.FromSeconds(1), connection.Heartbeat);
        ConnectionClosedEventArgs? closed = null;
        connection.Closed += (_, e) => closed = e;

        await Task.Delay(TimeSpan.FromSeconds(3.5), Ct);

        Assert.Null(closed);
        Assert.True(connection.IsOpen);
        Assert.Null(await connection.QueryOffsetAsync("r", BrokerFixture.UniqueName("missing"), Ct).ContinueWith(t => t.IsFaulted ? null : t.Result, Ct));
        Assert.True(connection.IsOpen);
    }

    [Fact]
    public async Task Unknown_frame_makes_the_broker_close_with_a_code()
    {
        await using var connection = await TestConnections.ConnectAsync(fixture.Endpoint);
        var closed = new TaskCompletionSource<ConnectionClosedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Closed += (_, e) => closed.TrySetResult(e);
        var subscription = new RecordingSubscriptionHandler();
        connection.RegisterSubscription("any", subscription);

        await connection.WriteAsync(new byte[] { 0, 0, 0, 4, 0x7e, 0x7e, 0, 1 }, Ct);

        var reason = await closed.Task.WaitAsync(Wait, Ct);
        Assert.Equal(ConnectionCloseKind.Server, reason.Kind);
        Assert.Equal(ResponseCode.UnknownFrame, reason.Code);
        Assert.Equal(ConnectionCloseKind.Server, (await subscription.ConnectionClosed.Task.WaitAsync(Wait, Ct)).Kind);
        await Assert.ThrowsAsync<StreamConnectionClosedException>(() => connection.QueryOffsetAsync("r", "s", Ct));
    }

    [Fact]
    public async Task Ids_are_reused_after_unregistering_and_exhaustion_throws()
    {
        await using var connection = await TestConnections.ConnectAsync(fixture.Endpoint);
        var handler = new RecordingPublisherHandler();
        var ids = Enumerable.Range(0, 256).Select(_ => connection.RegisterPublisher("s", handler)).ToList();
        Assert.Equal(256, ids.Distinct().Count());
        Assert.Throws<StreamClientException>(() => connection.RegisterPublisher("s", handler));
        connection.UnregisterPublisher(42);
        Assert.Equal(42, connection.RegisterPublisher("s", handler));

        var subscriptions = Enumerable.Range(0, 256).Select(_ => connection.RegisterSubscription("s", new RecordingSubscriptionHandler())).ToList();
        Assert.Equal(256, subscriptions.Distinct().Count());
        Assert.Throws<StreamClientException>(() => connection.RegisterSubscription("s", new RecordingSubscriptionHandler()));
    }

    [Fact]
    public async Task Publish_confirm_deliver_and_metadata_update_reach_the_registered_handlers()
    {
        var stream = BrokerFixture.UniqueName("core-dispatch");
        await using var connection = await TestConnections.ConnectAsync(fixture.Endpoint);
        Assert.True(await connection.CreateStreamAsync(stream, null, Ct));

        var publisher = new RecordingPublisherHandler();
        var publisherId = connection.RegisterPublisher(stream, publisher);
        await connection.DeclarePublisherAsync(publisherId, null, stream, Ct);
        using var frame = new Streams.Client.Producers.PublishFrame(64);
        frame.Reset(publisherId, 1, 64);
        frame.AppendV1(1, AmqpHi);
        await connection.WriteAsync(frame.Seal(), Ct);
        Assert.Equal(1ul, await publisher.FirstConfirm.Task.WaitAsync(Wait, Ct));

        var subscriber = new RecordingSubscriptionHandler();
        var subscriptionId = connection.RegisterSubscription(stream, subscriber);
        await connection.SubscribeAsync(subscriptionId, stream, OffsetSpecification.First, 2, null, Ct);
        var (chunk, committed) = await subscriber.FirstDelivery.Task.WaitAsync(Wait, Ct);
        Assert.Equal(0x50, chunk[0]);
        Assert.NotNull(committed);
        Assert.Equal(48 + 4 + 7, chunk.Length);

        await using (var other = await TestConnections.ConnectAsync(fixture.Endpoint))
        {
            await other.DeleteStreamAsync(stream, Ct);
        }

        Assert.Equal(ResponseCode.StreamNotAvailable, await publisher.MetadataUpdate.Task.WaitAsync(Wait, Ct));
        Assert.Equal(ResponseCode.StreamNotAvailable, await subscriber.MetadataUpdate.Task.WaitAsync(Wait, Ct));
        Assert.True(connection.IsOpen);
    }

    [Fact]
    public async Task Credit_error_for_an_unsubscribed_id_reaches_the_handler()
    {
        await using var connection = await TestConnections.ConnectAsync(fixture.Endpoint);
        var subscriber = new RecordingSubscriptionHandler();
        var id = connection.RegisterSubscription("s", subscriber);

        await connection.CreditAsync(id, 1);

        Assert.Equal(ResponseCode.SubscriptionIdDoesNotExist, await subscriber.CreditError.Task.WaitAsync(Wait, Ct));
        await Assert.ThrowsAsync<SubscriptionIdException>(() => connection.UnsubscribeAsync(id, Ct));
        await Assert.ThrowsAsync<PublisherDoesNotExistException>(() => connection.DeletePublisherAsync(7, Ct));
    }

    [Fact]
    public async Task Single_active_consumer_update_is_answered_with_the_handler_spec()
    {
        var stream = BrokerFixture.UniqueName("core-sac");
        await using var connection = await TestConnections.ConnectAsync(fixture.Endpoint);
        await connection.CreateStreamAsync(stream, null, Ct);
        try
        {
            var publisher = new RecordingPublisherHandler();
            var publisherId = connection.RegisterPublisher(stream, publisher);
            await connection.DeclarePublisherAsync(publisherId, null, stream, Ct);
            using var frame = new Streams.Client.Producers.PublishFrame(64);
            frame.Reset(publisherId, 1, 64);
            frame.AppendV1(1, AmqpHi);
            await connection.WriteAsync(frame.Seal(), Ct);
            await publisher.FirstConfirm.Task.WaitAsync(Wait, Ct);

            var subscriber = new RecordingSubscriptionHandler(OffsetSpecification.First);
            var id = connection.RegisterSubscription(stream, subscriber);
            await connection.SubscribeAsync(id, stream, OffsetSpecification.Next, 2,
                new Dictionary<string, string> { ["single-active-consumer"] = "true", ["name"] = "core-group" }, Ct);

            Assert.True(await subscriber.ConsumerUpdate.Task.WaitAsync(Wait, Ct));
            var (chunk, _) = await subscriber.FirstDelivery.Task.WaitAsync(Wait, Ct);
            Assert.Equal(0x50, chunk[0]);
        }
        finally
        {
            await connection.DeleteStreamAsync(stream, Ct);
        }
    }

    [Fact]
    public async Task Connect_to_a_closed_port_fails_with_a_socket_error()
    {
        var settings = With(s => new StreamConnectionSettings { Host = s.Host, Port = 1, UserName = s.UserName, Password = s.Password });
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => TestConnections.ConnectAsync(settings));
    }

    [Fact]
    public void Tune_negotiation_rule()
    {
        Assert.Equal(100u, StreamConnection.Negotiate(0, 100));
        Assert.Equal(100u, StreamConnection.Negotiate(100, 0));
        Assert.Equal(50u, StreamConnection.Negotiate(50, 100));
        Assert.Equal(50u, StreamConnection.Negotiate(100, 50));
        Assert.Equal(0u, StreamConnection.Negotiate(0, 0));
    }

    [Fact]
    public void Client_properties_and_versions()
    {
        var props = StreamConnection.BuildClientProperties("app");
        Assert.Equal("Streams.Client", props["product"]);
        Assert.StartsWith(".NET ", props["platform"], StringComparison.Ordinal);
        Assert.Equal("app", props["connection_name"]);
        Assert.Contains(props.Keys, k => k == "copyright");
        Assert.Contains(props.Keys, k => k == "information");
        Assert.Contains(props.Keys, k => k == "version");
        Assert.Contains(StreamConnection.ClientCommandVersions, v => v.Key == 8 && v.MaxVersion == 2);
        Assert.True(StreamConnection.SupportsCommandVersions(new Dictionary<string, string> { ["version"] = "4.0.5" }));
        Assert.False(StreamConnection.SupportsCommandVersions(new Dictionary<string, string> { ["version"] = "3.10.2" }));
    }
}
