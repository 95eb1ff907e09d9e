using Streams.Client.Amqp;
using static Streams.Client.Tests.Amqp.AmqpTestHelpers;

namespace Streams.Client.Tests.Amqp;

/// <summary>Malformed input always ends in <see cref="AmqpDecodeException"/>, never a crash, hang or huge allocation.</summary>
public sealed class AmqpMalformedInputTests
{
    private static AmqpDecodeException AssertRejects(string hex)
    {
        var bytes = Hex(hex);
        return Assert.Throws<AmqpDecodeException>(() => AmqpMessageCodec.Decode(bytes.AsMemory()));
    }

    [Theory]
    [InlineData("ff", "not a section")]
    [InlineData("00 53 79 40", "unknown section code")]
    [InlineData("00 53 6f 40", "unknown section code below header")]
    [InlineData("00 a3 03 61 62 63 40", "unknown symbolic descriptor")]
    [InlineData("00 a1 01 61 40", "string descriptor")]
    [InlineData("00 53 77 ff", "bad constructor in body")]
    [InlineData("00 53 77 a1 05 61", "str8 longer than the buffer")]
    [InlineData("00 53 77 b1 7f ff ff ff 61", "forged str32 length")]
    [InlineData("00 53 75 b0 ff ff ff ff 00", "forged vbin32 length")]
    [InlineData("00 53 77 a1 02 c3 28", "invalid UTF-8")]
    [InlineData("00 53 77 a3 01 ff", "invalid UTF-8 symbol")]
    [InlineData("00 53 77 c0 05 06 40 40 40 40", "count exceeds list size")]
    [InlineData("00 53 77 c0 00", "list8 size too small for its count")]
    [InlineData("00 53 77 c0 03 01 40 40", "list shorter than declared size")]
    [InlineData("00 53 77 c0 02 01 a1 01 61", "element overruns list size")]
    [InlineData("00 53 77 d0 00 00 00 08 ff ff ff ff 40 40 40 40", "huge list32 count")]
    [InlineData("00 53 77 d0 ff ff ff f0 00 00 00 01 40", "huge list32 size")]
    [InlineData("00 53 77 c1 03 01 40 40", "odd map count")]
    [InlineData("00 53 77 c1 05 02 40 40 40 40", "null map key")]
    [InlineData("00 53 77 c1 05 04 54 01 54 01 40 40", "count exceeds map size")]
    [InlineData("00 53 77 c1 09 04 54 01 40 54 01 40 40 40", "duplicate map key")]
    [InlineData("00 53 77 e0 01 00", "array without element constructor")]
    [InlineData("00 53 77 e0 02 05 71", "array count exceeds payload")]
    [InlineData("00 53 77 f0 00 00 00 05 7f ff ff ff 40", "forged zero-width array count")]
    [InlineData("00 53 77 f0 00 00 00 05 7f ff ff ff 71", "forged array32 count")]
    [InlineData("00 53 77 e0 02 01 ff", "array of unknown constructor")]
    [InlineData("00 53 77 e0 03 01 00 00", "nested described array constructor")]
    [InlineData("00 53 77 56 02", "boolean byte not 0 or 1")]
    [InlineData("00 53 77 73 00 00 d8 00", "surrogate char")]
    [InlineData("00 53 77 73 00 11 00 00", "char beyond U+10FFFF")]
    [InlineData("00 53 77 73 ff ff ff ff", "char with the top bit set")]
    [InlineData("00 53 77 00 40 40", "null descriptor")]
    [InlineData("00 53 77 70 00 00", "truncated uint")]
    [InlineData("00 53 75 a1 01 61", "data section not binary")]
    [InlineData("00 53 76 54 01", "sequence section not a list")]
    [InlineData("00 53 73 54 01", "properties section not a list")]
    [InlineData("00 53 74 c0 01 00", "application properties section not a map")]
    [InlineData("00 53 74 c1 04 02 54 01 40", "application property key not a string")]
    [InlineData("00 53 72 c1 04 02 40 40", "annotation key null")]
    [InlineData("00 53 70 c0 03 01 52 01", "header durable not a boolean")]
    [InlineData("00 53 70 c0 04 02 40 52 05", "header priority not a ubyte")]
    [InlineData("00 53 70 c0 03 01 41 40", "header list longer than declared")]
    [InlineData("00 53 73 c0 03 01 a1 01 00 53 75 a0 00", "properties list size too small")]
    [InlineData("00 53 73 c0 02 02 a1 00", "properties count exceeds remaining bytes")]
    [InlineData("00 53 73 c0 04 03 40 40 54 01", "properties 'to' not a string")]
    [InlineData("00 53 73 c0 0a 09 40 40 40 40 40 40 40 40 54", "properties expiry not a timestamp")]
    [InlineData("00 53 70 45 00 53 70 45", "duplicate header")]
    [InlineData("00 53 77 40 00 53 77 40", "two amqp-value sections")]
    [InlineData("00 53 75 a0 00 00 53 77 40", "data mixed with amqp-value")]
    [InlineData("00 53 76 45 00 53 75 a0 00", "sequence mixed with data")]
    [InlineData("00 53 75 a0 00 42", "trailing garbage")]
    [InlineData("00", "described prefix alone")]
    [InlineData("00 53", "descriptor without code")]
    [InlineData("00 53 75", "section without value")]
    public void Malformed_input_is_rejected(string hex, string because)
    {
        var exception = AssertRejects(hex);
        Assert.True(exception.Position >= 0, because);
        Assert.Contains("at byte", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Zero_width_array_elements_are_bounded_per_message()
    {
        // An all-zero uint array encoded with uint0 is valid and decodes...
        Assert.Equal(255, ((AmqpArray)AmqpMessageCodec.Decode(Hex("00 53 77 e0 02 ff 43").AsMemory()).AmqpValue!).Count);
        Assert.Equal(4096, ((AmqpArray)AmqpMessageCodec.Decode(Hex("00 53 77 f0 00 00 00 05 00 00 10 00 45").AsMemory()).AmqpValue!).Count);

        // ...but a few bytes cannot expand into more elements than the message budget.
        AssertRejects("00 53 77 f0 00 00 00 05 00 00 10 01 45");
        var bytes = new List<byte> { 0x00, 0x53, 0x77, 0xd0, 0, 0, 0, 0, 0, 0, 0x03, 0xe8 };
        for (var i = 0; i < 1000; i++)
        {
            bytes.AddRange([0xe0, 0x02, 0xff, 0x40]);
        }

        var size = (4 * 1000) + 4;
        bytes[4] = (byte)(size >> 24);
        bytes[5] = (byte)(size >> 16);
        bytes[6] = (byte)(size >> 8);
        bytes[7] = (byte)size;
        Assert.Throws<AmqpDecodeException>(() => AmqpMessageCodec.Decode(bytes.ToArray().AsMemory()));
    }

    [Fact]
    public void Error_reports_the_failing_position()
    {
        Assert.Equal(3, AssertRejects("00 53 77 ff").Position);
        Assert.Equal(1, AssertRejects("00 a1 01 61 40").Position);
    }

    [Fact]
    public void Nesting_deeper_than_the_cap_is_rejected()
    {
        var depth = 100;
        var bytes = new List<byte> { 0x00, 0x53, 0x77 };
        for (var i = 0; i < depth; i++)
        {
            bytes.AddRange([0xc0, (byte)(2 * (depth - i) - 1), 0x01]);
        }

        bytes.Add(0x40);
        Assert.Throws<AmqpDecodeException>(() => AmqpMessageCodec.Decode(bytes.ToArray().AsMemory()));

        var described = new List<byte> { 0x00, 0x53, 0x77 };
        for (var i = 0; i < 10_000; i++)
        {
            described.AddRange([0x00, 0x53, 0x01]);
        }

        described.Add(0x40);
        Assert.Throws<AmqpDecodeException>(() => AmqpMessageCodec.Decode(described.ToArray().AsMemory()));
    }

    [Fact]
    public void Nesting_within_the_cap_is_accepted()
    {
        object? value = null;
        for (var i = 0; i < 60; i++)
        {
            value = new List<object?> { value };
        }

        var message = new Message { AmqpValue = value };
        var decoded = AmqpMessageCodec.Decode(EncodeMessage(message).AsMemory());
        Assert.True(DeepEquals(value, decoded.AmqpValue));
    }

    [Fact]
    public void Every_truncation_of_a_valid_message_is_rejected_or_is_itself_a_whole_message()
    {
        var generator = new AmqpRandomGenerator(99);
        var messages = new List<Message>
        {
            new("hello"u8.ToArray())
            {
                Header = new MessageHeader { Durable = true, Ttl = 5000 },
                MessageAnnotations = new Dictionary<string, object?> { ["x-key"] = "v" },
                Properties = new MessageProperties { MessageId = 42ul, ContentType = "text/plain", CreationTime = DateTimeOffset.UnixEpoch },
                ApplicationProperties = new Dictionary<string, object?> { ["a"] = 1, ["b"] = new List<object?> { "x", 2.5 } },
                Footer = new Dictionary<string, object?> { ["f"] = new AmqpArray([1, 2, 3]) },
            },
        };
        for (var i = 0; i < 40; i++)
        {
            messages.Add(generator.NextMessage());
        }

        foreach (var message in messages)
        {
            var encoded = EncodeMessage(message);
            for (var length = 0; length < encoded.Length; length++)
            {
                var prefix = encoded.AsMemory(0, length);
                Message decoded;
                try
                {
                    decoded = AmqpMessageCodec.Decode(prefix);
                }
                catch (AmqpDecodeException)
                {
                    continue;
                }

                // A prefix that decodes must end exactly on a section boundary: it re-encodes to itself.
                Assert.Equal(ToHex(prefix.Span), ToHex(EncodeMessage(decoded)));
            }
        }
    }

    [Fact]
    public void Every_truncation_of_a_body_only_message_is_rejected()
    {
        var encoded = EncodeMessage(new Message(new byte[300]));
        for (var length = 1; length < encoded.Length; length++)
        {
            var prefix = encoded.AsMemory(0, length);
            Assert.Throws<AmqpDecodeException>(() => AmqpMessageCodec.Decode(prefix));
        }
    }

    [Fact]
    public void Random_bytes_never_crash_the_decoder()
    {
        var random = new Random(1234);
        for (var i = 0; i < 5000; i++)
        {
            var bytes = new byte[random.Next(1, 64)];
            random.NextBytes(bytes);
            if (random.Next(2) == 0)
            {
                // Start like a real section so the fuzz gets past the first check.
                bytes[0] = 0x00;
                if (bytes.Length > 2)
                {
                    bytes[1] = 0x53;
                    bytes[2] = (byte)random.Next(0x70, 0x79);
                }
            }

            DecodeOrReject(bytes);
        }
    }

    [Fact]
    public void Mutated_valid_messages_never_crash_the_decoder()
    {
        var generator = new AmqpRandomGenerator(4321);
        var random = generator.Random;
        for (var i = 0; i < 3000; i++)
        {
            var encoded = EncodeMessage(generator.NextMessage());
            if (encoded.Length == 0)
            {
                continue;
            }

            var mutations = random.Next(1, 4);
            for (var m = 0; m < mutations; m++)
            {
                encoded[random.Next(encoded.Length)] = random.Next(3) switch
                {
                    0 => (byte)random.Next(256),
                    1 => 0xff,
                    _ => (byte)(encoded[random.Next(encoded.Length)] ^ (1 << random.Next(8))),
                };
            }

            DecodeOrReject(encoded);
        }
    }

    private static void DecodeOrReject(byte[] bytes)
    {
        try
        {
            AmqpMessageCodec.Decode(bytes.AsMemory());
        }
        catch (AmqpDecodeException)
        {
            // expected for most inputs
        }
    }
}
