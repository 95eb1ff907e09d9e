using System.Text;
using Streams.Client.Amqp;
using static Streams.Client.Tests.Amqp.AmqpTestHelpers;

namespace Streams.Client.Tests.Amqp;

/// <summary>Byte-exact section vectors and decoding of the encodings other clients produce.</summary>
public sealed class AmqpMessageCodecTests
{
    private const string HelloData = "00 53 75 a0 02 68 69";

    private static void AssertEncodes(Message message, string hex)
    {
        var expected = ToHex(Hex(hex));
        Assert.Equal(expected, ToHex(EncodeMessage(message)));
        AssertMessagesEqual(message, AmqpMessageCodec.Decode(Hex(hex).AsMemory()));
    }

    [Fact]
    public void Body_only_message_is_one_data_section()
    {
        AssertEncodes(new Message("hi"u8.ToArray()), HelloData);
    }

    [Fact]
    public void Empty_data_section()
    {
        AssertEncodes(new Message(ReadOnlyMemory<byte>.Empty), "00 53 75 a0 00");
    }

    [Fact]
    public void Message_without_body_encodes_nothing()
    {
        Assert.Empty(EncodeMessage(new Message()));
        Assert.Equal(MessageBodyKind.None, AmqpMessageCodec.Decode(ReadOnlyMemory<byte>.Empty).BodyKind);
    }

    [Fact]
    public void Large_data_section_uses_vbin32()
    {
        var body = new byte[300];
        body[299] = 7;
        var encoded = EncodeMessage(new Message(body));
        Assert.Equal("005375b00000012c", ToHex(encoded.AsSpan(0, 8)));
        Assert.Equal(308, encoded.Length);
        Assert.Equal(body, AmqpMessageCodec.Decode(encoded.AsMemory()).Body.ToArray());
    }

    [Fact]
    public void Header_with_only_durable()
    {
        AssertEncodes(new Message("hi"u8.ToArray()) { Header = new MessageHeader { Durable = true } }, "00 53 70 c0 02 01 41 " + HelloData);
    }

    [Fact]
    public void Header_with_defaults_is_list0()
    {
        AssertEncodes(new Message("hi"u8.ToArray()) { Header = new MessageHeader() }, "00 53 70 45 " + HelloData);
    }

    [Fact]
    public void Header_with_all_fields()
    {
        var header = new MessageHeader { Durable = true, Priority = 9, Ttl = 1000, FirstAcquirer = true, DeliveryCount = 3 };
        AssertEncodes(new Message("hi"u8.ToArray()) { Header = header }, "00 53 70 c0 0c 05 41 50 09 70 00 00 03 e8 41 52 03 " + HelloData);
    }

    [Fact]
    public void Header_ttl_only_writes_nulls_before_it()
    {
        var header = new MessageHeader { TimeToLive = TimeSpan.FromSeconds(1) };
        Assert.Equal(1000u, header.Ttl);
        AssertEncodes(new Message("hi"u8.ToArray()) { Header = header }, "00 53 70 c0 08 03 40 40 70 00 00 03 e8 " + HelloData);
    }

    [Fact]
    public void Properties_with_message_id_only()
    {
        AssertEncodes(
            new Message("hi"u8.ToArray()) { Properties = new MessageProperties { MessageId = 1ul } },
            "00 53 73 c0 03 01 53 01 " + HelloData);
    }

    [Fact]
    public void Empty_properties_are_list0()
    {
        AssertEncodes(new Message("hi"u8.ToArray()) { Properties = new MessageProperties() }, "00 53 73 45 " + HelloData);
    }

    [Fact]
    public void Properties_content_type_is_a_symbol_after_six_nulls()
    {
        AssertEncodes(
            new Message("hi"u8.ToArray()) { Properties = new MessageProperties { ContentType = "text/plain" } },
            "00 53 73 c0 13 07 40 40 40 40 40 40 a3 0a 74 65 78 74 2f 70 6c 61 69 6e " + HelloData);
    }

    [Fact]
    public void Properties_with_all_thirteen_fields()
    {
        var properties = new MessageProperties
        {
            MessageId = "m",
            UserId = [0x75],
            To = "t",
            Subject = "s",
            ReplyTo = "r",
            CorrelationId = new Guid("00112233-4455-6677-8899-aabbccddeeff"),
            ContentType = "ct",
            ContentEncoding = "ce",
            AbsoluteExpiryTime = DateTimeOffset.FromUnixTimeMilliseconds(2),
            CreationTime = DateTimeOffset.FromUnixTimeMilliseconds(1),
            GroupId = "g",
            GroupSequence = 300,
            ReplyToGroupId = "rg",
        };
        const string Fields =
            "a1 01 6d "                   // message-id str8 "m"
            + "a0 01 75 "                 // user-id vbin8
            + "a1 01 74 a1 01 73 a1 01 72 " // to, subject, reply-to
            + "98 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff " // correlation-id uuid
            + "a3 02 63 74 a3 02 63 65 "  // content-type, content-encoding symbols
            + "83 00 00 00 00 00 00 00 02 83 00 00 00 00 00 00 00 01 " // timestamps
            + "a1 01 67 70 00 00 01 2c a1 02 72 67"; // group-id, group-sequence uint, reply-to-group-id
        var payload = Hex(Fields).Length;
        Assert.Equal(70, payload);
        AssertEncodes(
            new Message("hi"u8.ToArray()) { Properties = properties },
            $"00 53 73 c0 {payload + 1:x2} 0d {Fields} {HelloData}");
    }

    [Theory]
    [InlineData("ulong", "53 05")]
    [InlineData("uuid", "98 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01")]
    [InlineData("binary", "a0 02 01 02")]
    [InlineData("string", "a1 02 69 64")]
    public void Message_and_correlation_ids_of_every_kind_round_trip(string kind, string idHex)
    {
        object id = kind switch
        {
            "ulong" => 5ul,
            "uuid" => new Guid("00000000-0000-0000-0000-000000000001"),
            "binary" => new byte[] { 1, 2 },
            _ => "id",
        };
        var idLength = Hex(idHex).Length;
        var size = 1 + idLength + 4 + idLength;
        AssertEncodes(
            new Message("hi"u8.ToArray()) { Properties = new MessageProperties { MessageId = id, CorrelationId = id } },
            $"00 53 73 c0 {size:x2} 06 {idHex} 40 40 40 40 {idHex} {HelloData}");
    }

    [Fact]
    public void ReadOnlyMemory_message_id_is_binary()
    {
        var message = new Message("hi"u8.ToArray()) { Properties = new MessageProperties { MessageId = new ReadOnlyMemory<byte>([7]) } };
        Assert.Equal(ToHex(Hex("00 53 73 c0 04 01 a0 01 07 " + HelloData)), ToHex(EncodeMessage(message)));
    }

    [Fact]
    public void Unsupported_message_id_kind_is_rejected()
    {
        var message = new Message("hi"u8.ToArray()) { Properties = new MessageProperties { MessageId = 1 } };
        Assert.Throws<ArgumentException>(() => AmqpMessageCodec.GetSize(message));
    }

    [Fact]
    public void Application_properties_have_string_keys()
    {
        AssertEncodes(
            new Message("hi"u8.ToArray()) { ApplicationProperties = new Dictionary<string, object?> { ["k"] = "v" } },
            "00 53 74 c1 07 02 a1 01 6b a1 01 76 " + HelloData);
    }

    [Fact]
    public void Annotations_and_footer_have_symbol_keys()
    {
        AssertEncodes(
            new Message("hi"u8.ToArray())
            {
                DeliveryAnnotations = new Dictionary<string, object?> { ["d"] = true },
                MessageAnnotations = new Dictionary<string, object?> { ["x-opt"] = 1L },
                Footer = new Dictionary<string, object?> { ["f"] = null },
            },
            "00 53 71 c1 05 02 a3 01 64 41 "
            + "00 53 72 c1 0a 02 a3 05 78 2d 6f 70 74 55 01 "
            + HelloData
            + " 00 53 78 c1 05 02 a3 01 66 40");
    }

    [Fact]
    public void Amqp_value_body()
    {
        var message = new Message { AmqpValue = "s" };
        AssertEncodes(message, "00 53 77 a1 01 73");
        Assert.Equal(MessageBodyKind.AmqpValue, message.BodyKind);
        Assert.True(message.Body.IsEmpty);
    }

    [Fact]
    public void Null_amqp_value_body()
    {
        AssertEncodes(new Message { AmqpValue = null }, "00 53 77 40");
    }

    [Fact]
    public void Amqp_sequence_body()
    {
        AssertEncodes(new Message { AmqpSequence = [1] }, "00 53 76 c0 03 01 54 01");
        AssertEncodes(new Message { AmqpSequence = [] }, "00 53 76 45");
    }

    [Fact]
    public void Multiple_amqp_sequence_sections()
    {
        var message = new Message { AmqpSequenceSections = [new List<object?> { 1 }, new List<object?> { "a" }] };
        AssertEncodes(message, "00 53 76 c0 03 01 54 01 00 53 76 c0 04 01 a1 01 61");
        Assert.Equal(2, message.AmqpSequence!.Count);
    }

    [Fact]
    public void Multiple_data_sections()
    {
        var message = new Message { DataSections = [new byte[] { 1 }, new byte[] { 2, 3 }] };
        AssertEncodes(message, "00 53 75 a0 01 01 00 53 75 a0 02 02 03");
        Assert.Equal(new byte[] { 1, 2, 3 }, message.Body.ToArray());
        var decoded = AmqpMessageCodec.Decode(EncodeMessage(message).AsMemory());
        Assert.Equal(2, decoded.DataSections!.Count);
        Assert.Equal(new byte[] { 2, 3 }, decoded.DataSections[1].ToArray());
    }

    [Fact]
    public void Full_message_in_section_order()
    {
        var message = new Message("hi"u8.ToArray())
        {
            Header = new MessageHeader { Durable = true },
            DeliveryAnnotations = new Dictionary<string, object?> { ["d"] = 1 },
            MessageAnnotations = new Dictionary<string, object?> { ["x-m"] = "v" },
            Properties = new MessageProperties { MessageId = 7ul, ContentType = "a/b" },
            ApplicationProperties = new Dictionary<string, object?> { ["p"] = 2u, ["q"] = null },
            Footer = new Dictionary<string, object?> { ["f"] = false },
        };
        AssertEncodes(
            message,
            "00 53 70 c0 02 01 41 "
            + "00 53 71 c1 06 02 a3 01 64 54 01 "
            + "00 53 72 c1 09 02 a3 03 78 2d 6d a1 01 76 "
            + "00 53 73 c0 0d 07 53 07 40 40 40 40 40 a3 03 61 2f 62 "
            + "00 53 74 c1 0a 04 a1 01 70 52 02 a1 01 71 40 "
            + HelloData
            + " 00 53 78 c1 05 02 a3 01 66 42");
    }

    [Fact]
    public void Setting_a_body_replaces_the_previous_one()
    {
        var message = new Message { AmqpValue = 1 };
        message.Body = new byte[] { 1 };
        Assert.Equal(MessageBodyKind.Data, message.BodyKind);
        Assert.Null(message.AmqpValue);
        message.AmqpSequence = [1];
        Assert.True(message.Body.IsEmpty);
        message.ClearBody();
        Assert.Equal(MessageBodyKind.None, message.BodyKind);
    }

    // ---------------------------------------------------------------- alternative encodings from other clients

    [Fact]
    public void Decodes_wide_section_descriptors_and_symbolic_descriptors()
    {
        var wide = AmqpMessageCodec.Decode(Hex("00 80 00 00 00 00 00 00 00 75 a0 01 05"));
        Assert.Equal(new byte[] { 5 }, wide.Body.ToArray());

        var name = Encoding.ASCII.GetBytes("amqp:data:binary");
        var bytes = new byte[] { 0x00, 0xa3, (byte)name.Length }.Concat(name).Concat(new byte[] { 0xa0, 0x01, 0x09 }).ToArray();
        Assert.Equal(new byte[] { 9 }, AmqpMessageCodec.Decode(bytes.AsMemory()).Body.ToArray());
    }

    [Fact]
    public void Decodes_header_with_0x56_booleans_and_wide_uints()
    {
        var message = AmqpMessageCodec.Decode(Hex(
            "00 53 70 d0 00 00 00 14 00 00 00 05 56 01 50 02 70 00 00 00 0a 56 00 70 00 00 00 01 " + HelloData));
        var header = message.Header!;
        Assert.True(header.Durable);
        Assert.Equal(2, header.Priority);
        Assert.Equal(10u, header.Ttl);
        Assert.False(header.FirstAcquirer);
        Assert.Equal(1u, header.DeliveryCount);
    }

    [Fact]
    public void Decodes_header_all_null_and_extra_fields()
    {
        var header = AmqpMessageCodec.Decode(Hex("00 53 70 c0 08 06 40 40 40 40 40 a1 00 " + HelloData)).Header!;
        Assert.False(header.Durable);
        Assert.Equal(4, header.Priority);
        Assert.Null(header.Ttl);
        Assert.Equal(0u, header.DeliveryCount);
    }

    [Fact]
    public void Decodes_short_and_list32_property_lists()
    {
        var shortList = AmqpMessageCodec.Decode(Hex("00 53 73 c0 05 02 40 a0 01 75 " + HelloData)).Properties!;
        Assert.Null(shortList.MessageId);
        Assert.Equal(new byte[] { 0x75 }, shortList.UserId);
        Assert.Null(shortList.ContentType);

        var list32 = AmqpMessageCodec.Decode(Hex("00 53 73 d0 00 00 00 13 00 00 00 0d 40 40 40 40 40 40 a1 01 78 40 40 40 40 40 40 " + HelloData)).Properties!;
        Assert.Equal("x", list32.ContentType); // str8 accepted where a symbol is expected
        Assert.Null(list32.GroupSequence);

        var list0 = AmqpMessageCodec.Decode(Hex("00 53 73 45 " + HelloData)).Properties!;
        Assert.Null(list0.To);

        var nullSection = AmqpMessageCodec.Decode(Hex("00 53 73 40 " + HelloData));
        Assert.NotNull(nullSection.Properties);
    }

    [Fact]
    public void Decodes_group_sequence_and_ids_in_long_forms()
    {
        var p = AmqpMessageCodec.Decode(Hex(
            "00 53 73 c0 1b 0c 80 00 00 00 00 00 00 00 05 40 40 40 40 b1 00 00 00 01 63 40 40 40 40 40 52 09 " + HelloData)).Properties!;
        Assert.Equal(5ul, p.MessageId);
        Assert.Equal("c", p.CorrelationId);
        Assert.Equal(9u, p.GroupSequence);
    }

    [Fact]
    public void Decodes_map32_application_properties_and_symbol_keys()
    {
        var message = AmqpMessageCodec.Decode(Hex(
            "00 53 74 d1 00 00 00 11 00 00 00 04 a1 01 61 54 01 a3 01 62 b1 00 00 00 00 " + HelloData));
        Assert.Equal(1, message.ApplicationProperties!["a"]);
        Assert.Equal(string.Empty, message.ApplicationProperties["b"]);
    }

    [Fact]
    public void Decodes_annotation_ulong_keys_as_decimal_strings()
    {
        var message = AmqpMessageCodec.Decode(Hex("00 53 72 c1 05 02 53 07 a1 00 " + HelloData));
        Assert.Equal(string.Empty, message.MessageAnnotations!["7"]);
    }

    [Fact]
    public void Decodes_sections_in_another_order_and_with_omissions()
    {
        var message = AmqpMessageCodec.Decode(Hex("00 53 74 c1 01 00 " + HelloData + " 00 53 73 45 00 53 75 a0 01 21"));
        Assert.NotNull(message.ApplicationProperties);
        Assert.NotNull(message.Properties);
        Assert.Equal("hi!"u8.ToArray(), message.Body.ToArray());
        Assert.Equal(2, message.DataSections!.Count);
    }

    [Fact]
    public void Decoded_body_aliases_the_input_and_can_be_copied()
    {
        var encoded = Hex(HelloData);
        var message = AmqpMessageCodec.Decode(encoded.AsMemory());
        encoded[5] = (byte)'H';
        Assert.Equal("Hi"u8.ToArray(), message.Body.ToArray());

        message.CopyBody();
        encoded[5] = (byte)'X';
        Assert.Equal("Hi"u8.ToArray(), message.Body.ToArray());

        var copied = AmqpMessageCodec.DecodeCopy(encoded);
        encoded[5] = (byte)'Y';
        Assert.Equal("Xi"u8.ToArray(), copied.Body.ToArray());

        var fromSpan = AmqpMessageCodec.DecodeCopy(encoded.AsSpan());
        encoded[5] = (byte)'Z';
        Assert.Equal("Yi"u8.ToArray(), fromSpan.Body.ToArray());
    }

    // ---------------------------------------------------------------- data-only and raw

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(70_000)]
    public void Data_only_encoding_matches_the_general_codec(int length)
    {
        var body = new byte[length];
        new Random(length).NextBytes(body);
        var size = AmqpMessageCodec.GetDataOnlySize(length);
        var buffer = new byte[size];
        Assert.Equal(size, AmqpMessageCodec.EncodeDataOnly(body, buffer));
        Assert.Equal(EncodeMessage(new Message(body)), buffer);
        Assert.Equal(body, AmqpMessageCodec.Decode(buffer.AsMemory()).Body.ToArray());
    }

    [Fact]
    public void Encode_into_a_too_small_buffer_throws_ArgumentException()
    {
        var message = new Message("hi"u8.ToArray()) { Properties = new MessageProperties { MessageId = 1ul } };
        var size = AmqpMessageCodec.GetSize(message);
        Assert.Throws<ArgumentException>(() => AmqpMessageCodec.Encode(message, new byte[size - 1]));
        Assert.Throws<ArgumentException>(() => AmqpMessageCodec.EncodeDataOnly([1, 2], new byte[4]));
    }

    [Fact]
    public void Raw_codec_is_the_body_bytes()
    {
        var message = new Message { DataSections = [new byte[] { 1 }, new byte[] { 2, 3 }] };
        Assert.Equal(3, RawMessageCodec.GetSize(message));
        var buffer = new byte[3];
        Assert.Equal(3, RawMessageCodec.Encode(message, buffer));
        Assert.Equal(new byte[] { 1, 2, 3 }, buffer);
        Assert.Equal(buffer, RawMessageCodec.Decode(buffer).Body.ToArray());
        Assert.Equal(EntryFormat.Raw, RawMessageCodec.Decode(buffer).Format);
        Assert.Throws<ArgumentException>(() => RawMessageCodec.GetSize(new Message { AmqpValue = 1 }));
    }

    [Fact]
    public void Hot_path_encode_does_not_allocate()
    {
        object one = 1L;
        object tenant = "tenant-a";
        var message = new Message(new byte[100])
        {
            Properties = new MessageProperties { MessageId = (object)123456ul, ContentType = "application/json" },
            ApplicationProperties = new Dictionary<string, object?> { ["traceparent"] = tenant, ["n"] = one },
        };
        var buffer = new byte[1024];
        for (var i = 0; i < 100; i++)
        {
            AmqpMessageCodec.Encode(message, buffer.AsSpan(0, AmqpMessageCodec.GetSize(message)));
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            AmqpMessageCodec.Encode(message, buffer.AsSpan(0, AmqpMessageCodec.GetSize(message)));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}

public sealed class AmqpPublicTypeTests
{
    [Fact]
    public void Symbols_compare_by_text()
    {
        AmqpSymbol a = "x-opt";
        Assert.Equal(new AmqpSymbol("x-opt"), a);
        Assert.True(a == AmqpSymbol.FromString("x-opt"));
        Assert.True(a != default);
        Assert.Equal(string.Empty, default(AmqpSymbol).Value);
        Assert.Equal("x-opt", a.ToString());
    }

    [Fact]
    public void Time_to_live_view_validates_its_range()
    {
        var header = new MessageHeader { TimeToLive = TimeSpan.FromMilliseconds(1500) };
        Assert.Equal(1500u, header.Ttl);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), header.TimeToLive);
        header.TimeToLive = null;
        Assert.Null(header.Ttl);
        Assert.Throws<ArgumentOutOfRangeException>(() => header.TimeToLive = TimeSpan.FromSeconds(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => header.TimeToLive = TimeSpan.FromDays(60));
    }

    [Fact]
    public void Decode_exception_is_a_stream_client_exception_with_a_position()
    {
        StreamClientException exception = new AmqpDecodeException("bad", 12);
        Assert.Equal(12, ((AmqpDecodeException)exception).Position);
        Assert.Equal("bad (at byte 12)", exception.Message);
        Assert.Equal(-1, new AmqpDecodeException("x").Position);
    }

    [Fact]
    public void Non_ascii_symbols_are_rejected_when_encoding()
    {
        var message = new Message { Properties = new MessageProperties { ContentType = "text/é" } };
        Assert.Throws<ArgumentException>(() => Streams.Client.Amqp.AmqpMessageCodec.GetSize(message));
        var annotated = new Message { MessageAnnotations = new Dictionary<string, object?> { ["ключ"] = 1 } };
        Assert.Throws<ArgumentException>(() => Streams.Client.Amqp.AmqpMessageCodec.GetSize(annotated));
    }
}
