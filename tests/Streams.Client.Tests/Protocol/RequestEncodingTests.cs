using Streams.Client.Protocol;

namespace Streams.Client.Tests.Protocol;

public sealed class RequestEncodingTests
{
    [Fact]
    public void DeclarePublisher_with_reference() =>
        Hex.Equal("00 00 00 10 | 00 01 00 01 | 00 00 00 01 | 07 | 00 02 \"ab\" | 00 01 \"s\"", Requests.DeclarePublisher(1, 7, "ab", "s"));

    [Fact]
    public void DeclarePublisher_without_reference_writes_an_empty_string() =>
        Hex.Equal("00 00 00 0e | 00 01 00 01 | 00 00 00 01 | 07 | 00 00 | 00 01 \"s\"", Requests.DeclarePublisher(1, 7, null, "s"));

    [Fact]
    public void QueryPublisherSequence() =>
        Hex.Equal("00 00 00 0e 00 05 00 01 00 00 00 02 00 01 \"r\" 00 01 \"s\"", Requests.QueryPublisherSequence(2, "r", "s"));

    [Fact]
    public void DeletePublisher() =>
        Hex.Equal("00 00 00 09 00 06 00 01 00 00 00 03 05", Requests.DeletePublisher(3, 5));

    [Fact]
    public void Subscribe_first_without_properties_omits_the_map() =>
        Hex.Equal("00 00 00 10 00 07 00 01 00 00 00 04 01 00 01 \"s\" 00 01 00 0a",
            Requests.Subscribe(4, 1, "s", OffsetSpecification.First, 10, null));

    [Fact]
    public void Subscribe_empty_properties_omits_the_map() =>
        Hex.Equal("00 00 00 10 00 07 00 01 00 00 00 04 01 00 01 \"s\" 00 03 00 0a",
            Requests.Subscribe(4, 1, "s", OffsetSpecification.Next, 10, new Dictionary<string, string>()));

    [Fact]
    public void Subscribe_offset_with_properties() =>
        Hex.Equal("00 00 00 22 00 07 00 01 00 00 00 04 01 00 01 \"s\" 00 04 00 00 00 00 00 00 01 02 00 0a 00 00 00 01 00 01 \"k\" 00 01 \"v\"",
            Requests.Subscribe(4, 1, "s", OffsetSpecification.Offset(0x0102), 10, new Dictionary<string, string> { ["k"] = "v" }));

    [Fact]
    public void Subscribe_timestamp_writes_milliseconds() =>
        Hex.Equal("00 00 00 18 00 07 00 01 00 00 00 04 01 00 01 \"s\" 00 05 00 00 00 00 00 00 03 e8 00 02",
            Requests.Subscribe(4, 1, "s", OffsetSpecification.Timestamp(DateTimeOffset.FromUnixTimeMilliseconds(1000)), 2, null));

    [Fact]
    public void Subscribe_last() =>
        Hex.Equal("00 00 00 10 00 07 00 01 00 00 00 04 01 00 01 \"s\" 00 02 00 01",
            Requests.Subscribe(4, 1, "s", OffsetSpecification.Last, 1, null));

    [Fact]
    public void Credit_has_no_correlation_id() =>
        Hex.Equal("00 00 00 07 00 09 00 01 01 00 05", Requests.Credit(1, 5));

    [Fact]
    public void StoreOffset_has_no_correlation_id() =>
        Hex.Equal("00 00 00 12 00 0a 00 01 00 01 \"r\" 00 01 \"s\" 00 00 00 00 00 00 00 0a", Requests.StoreOffset("r", "s", 10));

    [Fact]
    public void QueryOffset() =>
        Hex.Equal("00 00 00 0e 00 0b 00 01 00 00 00 05 00 01 \"r\" 00 01 \"s\"", Requests.QueryOffset(5, "r", "s"));

    [Fact]
    public void Unsubscribe() =>
        Hex.Equal("00 00 00 09 00 0c 00 01 00 00 00 06 02", Requests.Unsubscribe(6, 2));

    [Fact]
    public void Create_with_arguments() =>
        Hex.Equal("00 00 00 1d 00 0d 00 01 00 00 00 07 00 01 \"s\" 00 00 00 01 00 07 \"max-age\" 00 03 \"10s\"",
            Requests.Create(7, "s", new Dictionary<string, string> { ["max-age"] = "10s" }));

    [Fact]
    public void Create_without_arguments_writes_an_empty_map() =>
        Hex.Equal("00 00 00 0f 00 0d 00 01 00 00 00 07 00 01 \"s\" 00 00 00 00", Requests.Create(7, "s", null));

    [Fact]
    public void Delete() =>
        Hex.Equal("00 00 00 0b 00 0e 00 01 00 00 00 08 00 01 \"s\"", Requests.Delete(8, "s"));

    [Fact]
    public void Metadata() =>
        Hex.Equal("00 00 00 12 00 0f 00 01 00 00 00 09 00 00 00 02 00 01 \"a\" 00 01 \"b\"", Requests.Metadata(9, ["a", "b"]));

    [Fact]
    public void PeerProperties() =>
        Hex.Equal("00 00 00 18 00 11 00 01 00 00 00 01 00 00 00 01 00 07 \"product\" 00 01 \"x\"",
            Requests.PeerProperties(1, new Dictionary<string, string> { ["product"] = "x" }));

    [Fact]
    public void SaslHandshake_has_no_fields() =>
        Hex.Equal("00 00 00 08 00 12 00 01 00 00 00 02", Requests.SaslHandshake(2));

    [Fact]
    public void SaslAuthenticate_plain() =>
        Hex.Equal("00 00 00 17 00 13 00 01 00 00 00 03 00 05 \"PLAIN\" 00 00 00 04 00 \"u\" 00 \"p\"",
            Requests.SaslAuthenticate(3, "PLAIN", Requests.PlainSaslData("u", "p")));

    [Fact]
    public void TuneReply_uses_the_response_key() =>
        Hex.Equal("00 00 00 0c 80 14 00 01 00 10 00 00 00 00 00 3c", Requests.TuneReply(1_048_576, 60));

    [Fact]
    public void Open() =>
        Hex.Equal("00 00 00 0b 00 15 00 01 00 00 00 04 00 01 \"/\"", Requests.Open(4, "/"));

    [Fact]
    public void Close() =>
        Hex.Equal("00 00 00 0e 00 16 00 01 00 00 00 05 00 01 00 02 \"OK\"", Requests.Close(5, ResponseCode.Ok, "OK"));

    [Fact]
    public void CloseResponse_answers_a_server_close() =>
        Hex.Equal("00 00 00 0a 80 16 00 01 00 00 00 01 00 01", Requests.CloseResponse(1, ResponseCode.Ok));

    [Fact]
    public void Heartbeat() =>
        Hex.Equal("00 00 00 04 00 17 00 01", Requests.Heartbeat.Span);

    [Fact]
    public void Route() =>
        Hex.Equal("00 00 00 0f 00 18 00 01 00 00 00 06 00 01 \"k\" 00 02 \"ss\"", Requests.Route(6, "k", "ss"));

    [Fact]
    public void Partitions() =>
        Hex.Equal("00 00 00 0c 00 19 00 01 00 00 00 07 00 02 \"ss\"", Requests.Partitions(7, "ss"));

    [Fact]
    public void ConsumerUpdateResponse_with_offset() =>
        Hex.Equal("00 00 00 14 80 1a 00 01 00 00 00 00 00 01 00 04 00 00 00 00 00 00 00 05",
            Requests.ConsumerUpdateResponse(0, ResponseCode.Ok, OffsetSpecification.Offset(5)));

    [Fact]
    public void ConsumerUpdateResponse_none_keeps_the_subscribe_spec() =>
        Hex.Equal("00 00 00 0c 80 1a 00 01 00 00 00 03 00 01 00 00",
            Requests.ConsumerUpdateResponse(3, ResponseCode.Ok, OffsetSpecification.None));

    [Fact]
    public void ExchangeCommandVersions() =>
        Hex.Equal("00 00 00 12 00 1b 00 01 00 00 00 08 00 00 00 01 00 08 00 01 00 02",
            Requests.ExchangeCommandVersions(8, [new CommandVersion(8, 1, 2)]));

    [Fact]
    public void StreamStats() =>
        Hex.Equal("00 00 00 0b 00 1c 00 01 00 00 00 09 00 01 \"s\"", Requests.StreamStats(9, "s"));

    [Fact]
    public void CreateSuperStream() =>
        Hex.Equal("00 00 00 21 00 1d 00 01 00 00 00 0a 00 02 \"ss\" 00 00 00 01 00 04 \"ss-0\" 00 00 00 01 00 01 \"0\" 00 00 00 00",
            Requests.CreateSuperStream(10, "ss", ["ss-0"], ["0"], null));

    [Fact]
    public void DeleteSuperStream() =>
        Hex.Equal("00 00 00 0c 00 1e 00 01 00 00 00 0b 00 02 \"ss\"", Requests.DeleteSuperStream(11, "ss"));

    [Fact]
    public void ResolveOffsetSpec_without_properties() =>
        Hex.Equal("00 00 00 0d 00 1f 00 01 00 00 00 0c 00 01 \"s\" 00 02", Requests.ResolveOffsetSpec(12, "s", OffsetSpecification.Last, null));

    [Fact]
    public void Utf8_strings_count_bytes_not_chars() =>
        Hex.Equal("00 00 00 0c 00 0e 00 01 00 00 00 01 00 02 c3 a9", Requests.Delete(1, "é"));
}
