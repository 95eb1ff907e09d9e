using Streams.Client.Protocol;

namespace Streams.Client.Tests.Protocol;

public sealed class ResponseDecodingTests
{
    [Theory]
    [InlineData(CommandKey.DeclarePublisher, "80 01")]
    [InlineData(CommandKey.DeletePublisher, "80 06")]
    [InlineData(CommandKey.Subscribe, "80 07")]
    [InlineData(CommandKey.Unsubscribe, "80 0c")]
    [InlineData(CommandKey.Create, "80 0d")]
    [InlineData(CommandKey.Delete, "80 0e")]
    [InlineData(CommandKey.Close, "80 16")]
    [InlineData(CommandKey.CreateSuperStream, "80 1d")]
    [InlineData(CommandKey.DeleteSuperStream, "80 1e")]
    internal void Code_responses(CommandKey key, string keyHex)
    {
        var response = Responses.ReadCodeResponse(Hex.Parse(keyHex + " 00 01 00 00 01 02 00 11"), key);
        Assert.Equal(0x0102u, response.CorrelationId);
        Assert.Equal(ResponseCode.PreconditionFailed, response.Code);
    }

    [Fact]
    public void Code_response_with_the_wrong_key_is_rejected() =>
        Assert.Throws<StreamProtocolFormatException>(() => Responses.ReadCodeResponse(Hex.Parse("80 02 00 01 00 00 00 01 00 01"), CommandKey.Create));

    [Fact]
    public void PeerProperties_with_map()
    {
        var r = Responses.ReadPeerProperties(Hex.Parse("80 11 00 01 00 00 00 01 00 01 00 00 00 01 00 01 \"a\" 00 01 \"b\""));
        Assert.Equal(ResponseCode.Ok, r.Code);
        Assert.Equal("b", r.Properties["a"]);
    }

    [Fact]
    public void PeerProperties_with_absent_map() =>
        Assert.Empty(Responses.ReadPeerProperties(Hex.Parse("80 11 00 01 00 00 00 01 00 01")).Properties);

    [Fact]
    public void SaslHandshake_mechanisms() =>
        Assert.Equal(["PLAIN", "AMQPLAIN"], Responses.ReadSaslHandshake(Hex.Parse("80 12 00 01 00 00 00 02 00 01 00 00 00 02 00 05 \"PLAIN\" 00 08 \"AMQPLAIN\"")).Mechanisms);

    [Fact]
    public void SaslAuthenticate_ok_has_no_challenge()
    {
        var r = Responses.ReadSaslAuthenticate(Hex.Parse("80 13 00 01 00 00 00 03 00 01"));
        Assert.Equal(ResponseCode.Ok, r.Code);
        Assert.Null(r.Challenge);
    }

    [Theory]
    [InlineData("00 00 00 02 ab cd")]
    [InlineData("00 02 ab cd")]
    public void SaslAuthenticate_challenge_with_i32_or_u16_length(string challenge)
    {
        var r = Responses.ReadSaslAuthenticate(Hex.Parse("80 13 00 01 00 00 00 03 00 0a " + challenge));
        Assert.Equal(ResponseCode.SaslChallenge, r.Code);
        Assert.Equal([0xab, 0xcd], r.Challenge);
    }

    [Fact]
    public void SaslAuthenticate_failure() =>
        Assert.Equal(ResponseCode.AuthenticationFailure, Responses.ReadSaslAuthenticate(Hex.Parse("80 13 00 01 00 00 00 03 00 08")).Code);

    [Fact]
    public void Open_with_advertised_host_and_port()
    {
        var r = Responses.ReadOpen(Hex.Parse("80 15 00 01 00 00 00 04 00 01 00 00 00 02 00 0f \"advertised_host\" 00 09 \"localhost\" 00 0f \"advertised_port\" 00 04 \"5552\""));
        Assert.Equal(4u, r.CorrelationId);
        Assert.Equal("localhost", r.Properties["advertised_host"]);
        Assert.Equal("5552", r.Properties["advertised_port"]);
    }

    [Fact]
    public void Open_failure_without_map()
    {
        var r = Responses.ReadOpen(Hex.Parse("80 15 00 01 00 00 00 04 00 0c"));
        Assert.Equal(ResponseCode.VirtualHostAccessFailure, r.Code);
        Assert.Empty(r.Properties);
    }

    [Fact]
    public void QueryPublisherSequence_value()
    {
        var r = Responses.ReadQueryPublisherSequence(Hex.Parse("80 05 00 01 00 00 00 02 00 01 00 00 00 00 00 00 00 2a"));
        Assert.Equal(ResponseCode.Ok, r.Code);
        Assert.Equal(42ul, r.Value);
    }

    [Fact]
    public void QueryOffset_no_offset()
    {
        var r = Responses.ReadQueryOffset(Hex.Parse("80 0b 00 01 00 00 00 05 00 13 00 00 00 00 00 00 00 00"));
        Assert.Equal(ResponseCode.NoOffset, r.Code);
        Assert.Equal(5u, r.CorrelationId);
    }

    [Fact]
    public void Metadata_has_no_top_level_code()
    {
        var r = Responses.ReadMetadata(Hex.Parse(
            "80 0f 00 01 00 00 00 09 | 00 00 00 01 | 00 00 00 09 \"localhost\" 00 00 15 b0 | 00 00 00 02 | " +
            "00 01 \"a\" 00 01 00 00 00 00 00 01 00 00 | 00 01 \"b\" 00 02 ff ff 00 00 00 00"));
        Assert.Equal(9u, r.CorrelationId);
        Assert.Equal(new MetadataBroker(0, "localhost", 5552), Assert.Single(r.Brokers));
        Assert.Equal(2, r.Streams.Count);
        Assert.Equal("a", r.Streams[0].Name);
        Assert.Equal(ResponseCode.Ok, r.Streams[0].Code);
        Assert.Equal(0, r.Streams[0].LeaderReference);
        Assert.Equal([(ushort)0], r.Streams[0].ReplicaReferences);
        Assert.Equal(ResponseCode.StreamDoesNotExist, r.Streams[1].Code);
        Assert.Equal(0xffff, r.Streams[1].LeaderReference);
        Assert.Empty(r.Streams[1].ReplicaReferences);
    }

    [Fact]
    public void Route_streams() =>
        Assert.Equal(["ss-1"], Responses.ReadRoute(Hex.Parse("80 18 00 01 00 00 00 06 00 01 00 00 00 01 00 04 \"ss-1\"")).Streams);

    [Fact]
    public void Partitions_empty() =>
        Assert.Empty(Responses.ReadPartitions(Hex.Parse("80 19 00 01 00 00 00 07 00 01 00 00 00 00")).Streams);

    [Fact]
    public void Partitions_error_without_list()
    {
        var r = Responses.ReadPartitions(Hex.Parse("80 19 00 01 00 00 00 07 00 02"));
        Assert.Equal(ResponseCode.StreamDoesNotExist, r.Code);
        Assert.Empty(r.Streams);
    }

    [Fact]
    public void ExchangeCommandVersions_list()
    {
        var r = Responses.ReadExchangeCommandVersions(Hex.Parse("80 1b 00 01 00 00 00 08 00 01 00 00 00 02 00 01 00 01 00 01 00 02 00 01 00 02"));
        Assert.Equal([new CommandVersion(1, 1, 1), new CommandVersion(2, 1, 2)], r.Versions);
    }

    [Fact]
    public void StreamStats_has_i64_values()
    {
        var r = Responses.ReadStreamStats(Hex.Parse(
            "80 1c 00 01 00 00 00 09 00 01 00 00 00 02 00 0e \"first_chunk_id\" ff ff ff ff ff ff ff ff 00 0d \"last_chunk_id\" 00 00 00 00 00 00 01 00"));
        Assert.Equal(-1L, r.Statistics["first_chunk_id"]);
        Assert.Equal(256L, r.Statistics["last_chunk_id"]);
    }

    [Fact]
    public void ResolveOffsetSpec_offset()
    {
        var r = Responses.ReadResolveOffsetSpec(Hex.Parse("80 1f 00 01 00 00 00 0c 00 01 00 04 00 00 00 00 00 00 00 07"));
        Assert.Equal(OffsetType.Offset, r.OffsetType);
        Assert.Equal(7ul, r.Offset);
    }

    [Fact]
    public void Credit_error_has_no_correlation_id()
    {
        var r = Responses.ReadCreditError(Hex.Parse("80 09 00 01 00 04 03"));
        Assert.Equal(ResponseCode.SubscriptionIdDoesNotExist, r.Code);
        Assert.Equal(3, r.SubscriptionId);
    }

    [Fact]
    public void Tune_from_server() =>
        Assert.Equal(new TuneFrame(1_048_576, 60), Responses.ReadTune(Hex.Parse("00 14 00 01 00 10 00 00 00 00 00 3c")));

    [Fact]
    public void Server_close_carries_a_correlation_id()
    {
        var r = Responses.ReadCloseRequest(Hex.Parse("00 16 00 01 00 00 00 01 00 0d 00 0d \"unknown frame\""));
        Assert.Equal(1u, r.CorrelationId);
        Assert.Equal(ResponseCode.UnknownFrame, r.Code);
        Assert.Equal("unknown frame", r.Reason);
    }

    [Fact]
    public void ConsumerUpdate_request() =>
        Assert.Equal(new ConsumerUpdateRequest(0, 2, true), Responses.ReadConsumerUpdate(Hex.Parse("00 1a 00 01 00 00 00 00 02 01")));

    [Fact]
    public void MetadataUpdate() =>
        Assert.Equal(new MetadataUpdateFrame(ResponseCode.StreamNotAvailable, "s"), Responses.ReadMetadataUpdate(Hex.Parse("00 10 00 01 00 06 00 01 \"s\"")));

    [Fact]
    public void PublishConfirm_ids()
    {
        var ids = Responses.ReadPublishConfirm(Hex.Parse("00 03 00 01 05 00 00 00 02 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 02"), out var publisherId, out var count);
        Assert.Equal(5, publisherId);
        Assert.Equal(2, count);
        Assert.Equal(16, ids.Length);
        Assert.Equal(2ul, System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(ids[8..]));
    }

    [Fact]
    public void PublishError_entries()
    {
        var entries = Responses.ReadPublishError(Hex.Parse("00 04 00 01 05 00 00 00 01 00 00 00 00 00 00 00 09 00 12"), out var publisherId, out var count);
        Assert.Equal(5, publisherId);
        Assert.Equal(1, count);
        Assert.Equal((9ul, ResponseCode.PublisherDoesNotExist), Responses.ReadPublishErrorEntry(entries, 0));
    }

    [Fact]
    public void PublishConfirm_with_a_count_larger_than_the_frame_is_rejected() =>
        Assert.Throws<StreamProtocolFormatException>(() => Responses.ReadPublishConfirm(Hex.Parse("00 03 00 01 05 00 00 00 09 00 00 00 00 00 00 00 01"), out _, out _));

    [Fact]
    public void Deliver_v1_header()
    {
        var offset = Responses.ReadDeliverHeader(Hex.Parse("00 08 00 01 03 50 00"), out var subscriptionId, out var committed);
        Assert.Equal(5, offset);
        Assert.Equal(3, subscriptionId);
        Assert.Null(committed);
    }

    [Fact]
    public void Deliver_v2_header()
    {
        var offset = Responses.ReadDeliverHeader(Hex.Parse("00 08 00 02 03 00 00 00 00 00 00 00 0b 50 00"), out var subscriptionId, out var committed);
        Assert.Equal(13, offset);
        Assert.Equal(3, subscriptionId);
        Assert.Equal(11ul, committed);
    }

    [Fact]
    public void Header_reads_key_and_version() =>
        Assert.Equal(((ushort)0x8001, (ushort)1), Responses.ReadHeader(Hex.Parse("80 01 00 01")));
}
