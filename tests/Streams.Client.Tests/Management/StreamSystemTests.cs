using Streams.Testing;

namespace Streams.Client.Tests.Management;

[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class StreamSystemTests(BrokerFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private StreamSystemOptions Options()
    {
        var options = new StreamSystemOptions
        {
            UserName = fixture.Endpoint.UserName,
            Password = fixture.Endpoint.Password,
            VirtualHost = fixture.Endpoint.VirtualHost,
            ConnectionName = "core-management-tests",
        };
        options.Endpoints.Add(new StreamEndpoint(fixture.Endpoint.Host, fixture.Endpoint.Port));
        return options;
    }

    private Task<StreamSystem> ConnectAsync() => StreamSystem.ConnectAsync(Options(), Ct);

    [Fact]
    public async Task Create_exists_metadata_stats_delete()
    {
        var stream = BrokerFixture.UniqueName("core-mgmt");
        await using var system = await ConnectAsync();

        Assert.False(await system.StreamExistsAsync(stream, Ct));
        Assert.True(await system.CreateStreamAsync(stream, new StreamSpec { MaxAge = TimeSpan.FromHours(1), MaxLengthBytes = 10_000_000 }, Ct));
        try
        {
            Assert.True(await system.StreamExistsAsync(stream, Ct));

            var metadata = Assert.Single(await system.QueryMetadataAsync(stream));
            Assert.Equal(stream, metadata.Stream);
            Assert.Equal(ResponseCode.Ok, metadata.Code);
            Assert.NotNull(metadata.Leader);
            Assert.Equal(5552, metadata.Leader.Port);
            Assert.True(metadata.Exists);

            var stats = await system.GetStreamStatisticsAsync(stream, Ct);
            Assert.Null(stats.FirstOffset);
            Assert.Null(stats.CommittedChunkId);
            Assert.Null(stats.LastChunkId);
        }
        finally
        {
            await system.DeleteStreamAsync(stream, Ct);
        }

        Assert.False(await system.StreamExistsAsync(stream, Ct));
    }

    [Fact]
    public async Task Metadata_for_several_streams_keeps_the_order_and_reports_missing_ones()
    {
        var stream = BrokerFixture.UniqueName("core-meta");
        var missing = BrokerFixture.UniqueName("core-missing");
        await using var system = await ConnectAsync();
        await system.CreateStreamAsync(stream, null, Ct);
        try
        {
            var metadata = await system.QueryMetadataAsync([missing, stream], Ct);
            Assert.Equal([missing, stream], metadata.Select(m => m.Stream));
            Assert.Equal(ResponseCode.StreamDoesNotExist, metadata[0].Code);
            Assert.Null(metadata[0].Leader);
            Assert.False(metadata[0].Exists);
            Assert.Equal(ResponseCode.Ok, metadata[1].Code);
        }
        finally
        {
            await system.DeleteStreamAsync(stream, Ct);
        }
    }

    [Fact]
    public async Task Create_is_idempotent_with_the_same_arguments()
    {
        var stream = BrokerFixture.UniqueName("core-idem");
        await using var system = await ConnectAsync();
        var spec = new StreamSpec { MaxAge = TimeSpan.FromDays(7), MaxSegmentSizeBytes = 100_000_000 };
        Assert.True(await system.CreateStreamAsync(stream, spec, Ct));
        try
        {
            Assert.False(await system.CreateStreamAsync(stream, spec, Ct));
        }
        finally
        {
            await system.DeleteStreamAsync(stream, Ct);
        }
    }

    [Fact]
    public async Task Create_with_conflicting_arguments_throws_a_typed_exception()
    {
        var stream = BrokerFixture.UniqueName("core-conflict");
        await using var system = await ConnectAsync();
        await system.CreateStreamAsync(stream, new StreamSpec { MaxAge = TimeSpan.FromDays(7) }, Ct);
        try
        {
            var ex = await Assert.ThrowsAsync<StreamAlreadyExistsWithDifferentArgumentsException>(
                () => system.CreateStreamAsync(stream, new StreamSpec { MaxAge = TimeSpan.FromDays(1) }, Ct));
            Assert.Equal(stream, ex.Stream);
            Assert.Equal(ResponseCode.PreconditionFailed, ex.Code);
            Assert.Contains(stream, ex.Message, StringComparison.Ordinal);
            Assert.Contains("max-age=86400s", ex.Message, StringComparison.Ordinal);

            // The management connection survives the error.
            Assert.True(await system.StreamExistsAsync(stream, Ct));
        }
        finally
        {
            await system.DeleteStreamAsync(stream, Ct);
        }
    }

    [Fact]
    public async Task Create_with_an_invalid_name_throws_PreconditionFailed()
    {
        await using var system = await ConnectAsync();
        var ex = await Assert.ThrowsAsync<PreconditionFailedException>(() => system.CreateStreamAsync("amq." + Guid.NewGuid().ToString("N"), null, Ct));
        Assert.IsNotType<StreamAlreadyExistsWithDifferentArgumentsException>(ex);
    }

    [Fact]
    public async Task Invalid_spec_is_rejected_client_side()
    {
        await using var system = await ConnectAsync();
        var stream = BrokerFixture.UniqueName("core-invalid");

        var ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => system.CreateStreamAsync(stream, new StreamSpec { FilterSizeBytes = 300 }, Ct));
        Assert.Equal("FilterSizeBytes", ex.ParamName);
        ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => system.CreateStreamAsync(stream, new StreamSpec { MaxAge = TimeSpan.Zero }, Ct));
        Assert.Equal("MaxAge", ex.ParamName);

        Assert.False(await system.StreamExistsAsync(stream, Ct));
    }

    [Fact]
    public async Task Deleting_a_missing_stream_throws_StreamDoesNotExistException()
    {
        var stream = BrokerFixture.UniqueName("core-missing");
        await using var system = await ConnectAsync();
        var ex = await Assert.ThrowsAsync<StreamDoesNotExistException>(() => system.DeleteStreamAsync(stream, Ct));
        Assert.Equal(stream, ex.Stream);
        Assert.Equal(ResponseCode.StreamDoesNotExist, ex.Code);
        Assert.Contains(stream, ex.Message, StringComparison.Ordinal);

        await Assert.ThrowsAsync<StreamDoesNotExistException>(() => system.GetStreamStatisticsAsync(stream, Ct));
    }

    [Fact]
    public async Task Offsets_no_offset_then_store_and_query()
    {
        var stream = BrokerFixture.UniqueName("core-offsets");
        await using var system = await ConnectAsync();
        await system.CreateStreamAsync(stream, null, Ct);
        try
        {
            Assert.Null(await system.QueryOffsetAsync("reader", stream, Ct));

            await system.StoreOffsetAsync("reader", stream, 42, Ct);
            ulong? stored = null;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (stored is null && DateTime.UtcNow < deadline)
            {
                stored = await system.QueryOffsetAsync("reader", stream, Ct);
                if (stored is null)
                {
                    await Task.Delay(50, Ct);
                }
            }

            Assert.Equal(42ul, stored);

            var stats = await system.GetStreamStatisticsAsync(stream, Ct);
            Assert.NotNull(stats.LastChunkId);
        }
        finally
        {
            await system.DeleteStreamAsync(stream, Ct);
        }
    }

    [Fact]
    public async Task Publisher_sequence_of_an_unknown_reference_is_zero()
    {
        var stream = BrokerFixture.UniqueName("core-seq");
        await using var system = await ConnectAsync();
        await system.CreateStreamAsync(stream, null, Ct);
        try
        {
            Assert.Equal(0ul, await system.QueryPublisherSequenceAsync("nobody", stream, Ct));
        }
        finally
        {
            await system.DeleteStreamAsync(stream, Ct);
        }
    }

    [Fact]
    public async Task Super_stream_create_partitions_route_delete()
    {
        var name = BrokerFixture.UniqueName("core-super");
        await using var system = await ConnectAsync();
        Assert.True(await system.CreateSuperStreamAsync(name, 3, null, Ct));
        try
        {
            Assert.False(await system.CreateSuperStreamAsync(name, 3, null, Ct));
            Assert.Equal([$"{name}-0", $"{name}-1", $"{name}-2"], await system.QueryPartitionsAsync(name, Ct));
            Assert.Equal([$"{name}-1"], await system.QueryRouteAsync("1", name, Ct));
            Assert.Empty(await system.QueryRouteAsync("nope", name, Ct));
        }
        finally
        {
            await system.DeleteSuperStreamAsync(name, Ct);
        }

        Assert.False(await system.StreamExistsAsync($"{name}-0", Ct));
        await Assert.ThrowsAsync<StreamDoesNotExistException>(() => system.QueryPartitionsAsync(name, Ct));
    }

    [Fact]
    public async Task Connect_tries_endpoints_in_order()
    {
        var options = Options();
        options.Endpoints.Insert(0, new StreamEndpoint(fixture.Endpoint.Host, 1));
        await using var system = await StreamSystem.ConnectAsync(options, Ct);
        Assert.True(system.IsOpen);
        Assert.Equal(fixture.Endpoint.Port, system.Connection.Port);
    }

    [Fact]
    public async Task Connect_fails_clearly_when_no_endpoint_answers()
    {
        var options = Options();
        options.Endpoints.Clear();
        options.Endpoints.Add(new StreamEndpoint("127.0.0.1", 1));
        var ex = await Assert.ThrowsAsync<StreamClientException>(() => StreamSystem.ConnectAsync(options, Ct));
        Assert.Contains("127.0.0.1:1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_credentials_surface_from_StreamSystem()
    {
        var options = Options();
        options.Password = "wrong";
        await Assert.ThrowsAsync<AuthenticationFailureException>(() => StreamSystem.ConnectAsync(options, Ct));
    }

    [Fact]
    public async Task Management_connection_is_reopened_after_it_was_lost()
    {
        await using var system = await ConnectAsync();
        var first = system.Connection;
        await first.CloseAsync(Ct);

        Assert.False(await system.StreamExistsAsync(BrokerFixture.UniqueName("core-reopen"), Ct));
        Assert.NotSame(first, system.Connection);
        Assert.True(system.IsOpen);
    }

    [Fact]
    public async Task Additional_connections_can_be_opened_for_producers_and_consumers()
    {
        await using var system = await ConnectAsync();
        await using var connection = await system.OpenConnectionAsync(fixture.Endpoint.Host, fixture.Endpoint.Port, Ct);
        Assert.True(connection.IsOpen);
        Assert.Equal("core-management-tests", connection.ConnectionName);
    }

    [Fact]
    public async Task Disposed_system_refuses_calls()
    {
        var system = await ConnectAsync();
        await system.DisposeAsync();
        await system.DisposeAsync();
        Assert.False(system.IsOpen);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => system.StreamExistsAsync("x", Ct));
    }

    [Fact]
    public async Task Connection_for_a_stream_lands_on_its_leader()
    {
        var stream = BrokerFixture.UniqueName("core-locate");
        await using var system = await ConnectAsync();
        await system.CreateStreamAsync(stream, null, Ct);
        try
        {
            await using var connection = await system.OpenConnectionForStreamAsync(stream, preferReplica: true, "consumer", Ct);
            Assert.True(connection.IsOpen);
            Assert.Equal("core-management-tests-consumer", connection.ConnectionName);
            await Assert.ThrowsAsync<StreamDoesNotExistException>(() => system.OpenConnectionForStreamAsync(BrokerFixture.UniqueName("missing"), false, null, Ct));
        }
        finally
        {
            await system.DeleteStreamAsync(stream, Ct);
        }
    }
}
