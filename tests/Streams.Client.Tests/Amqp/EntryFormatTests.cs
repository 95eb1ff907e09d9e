using System.Text;
using static Streams.Client.Tests.Amqp.AmqpTestHelpers;

namespace Streams.Client.Tests.Amqp;

/// <summary>
/// Lenient decoding: <see cref="Message.DetectFormat"/> (the rule), <see cref="Message.DecodeEntry"/>,
/// <see cref="Delivery.DecodeMessage"/> and <see cref="Delivery.TryDecodeMessage"/> on raw, valid and corrupt entries.
/// </summary>
public sealed class EntryFormatTests
{
    // "amqp:data:binary" and "amqp:foo" as hex.
    private const string DataName = "61 6d 71 70 3a 64 61 74 61 3a 62 69 6e 61 72 79";
    private const string FooName = "61 6d 71 70 3a 66 6f 6f";

    /// <summary>Entries that are not AMQP 1.0: their bytes are the body.</summary>
    public static TheoryData<string, string> RawEntries => new()
    {
        { "", "empty (an AMQP message needs a body section, so never empty)" },
        { "48 65 6c 6c 6f 2c 20 57 6f 72 6c 64 21", "text: what rstream's binary codec writes for b\"Hello, World!\"" },
        { "7b 22 6e 22 3a 31 7d", "JSON" },
        { "ff fe 00", "binary" },
        { "08 96 01", "protobuf" },
        { "00", "a lone 0x00" },
        { "00 00 00 05", "a big-endian length prefix" },
        { "00 53", "0x00 0x53 without a section code" },
        { "00 53 6f a0 00", "small ulong 0x6f: not a section" },
        { "00 53 79 a0 00", "small ulong 0x79: not a section" },
        { "00 52 75 a0 00", "small uint 0x75: a section code, but not as a ulong" },
        { "00 44 a0 00", "ulong0: descriptor 0, not a section" },
        { "00 80 00 00 00 00 00 00 00", "a ulong descriptor cut short" },
        { "00 80 00 00 00 00 00 00 01 75 a0 00", "ulong 0x175: not a section" },
        { $"00 a3 08 {FooName} a0 00", "a symbolic descriptor that names no section" },
        { $"00 a3 10 {DataName[..^3]}", "a section's symbol cut short" },
        { $"00 a1 10 {DataName} a0 00", "a section's name as a string, not a symbol" },
    };

    /// <summary>Entries that start with a section descriptor and decode: the body is "hi".</summary>
    public static TheoryData<string, string> ValidAmqpEntries => new()
    {
        { "00 53 75 a0 02 68 69", "a data section, small ulong descriptor" },
        { "00 53 75 b0 00 00 00 02 68 69", "a data section as vbin32" },
        { "00 80 00 00 00 00 00 00 00 75 a0 02 68 69", "a data section, ulong descriptor" },
        { $"00 a3 10 {DataName} a0 02 68 69", "a data section, symbolic descriptor" },
        { $"00 b3 00 00 00 10 {DataName} a0 02 68 69", "a data section, symbol32 descriptor" },
        { "00 53 73 c0 03 01 a1 00 00 53 75 a0 02 68 69", "properties (an empty message id) then data" },
        { "00 53 70 45 00 53 75 a0 02 68 69", "an empty header then data" },
    };

    /// <summary>Entries that start like AMQP but are corrupt or truncated: they must throw, not pass for raw.</summary>
    public static TheoryData<string, string> CorruptAmqpEntries => new()
    {
        { "00 53 75", "a data descriptor and nothing else" },
        { "00 53 75 a0 05 68 69", "vbin8 announcing more than there is (truncated)" },
        { "00 53 75 b0 00 00 00 10 01 02", "vbin32 announcing 16 bytes, carrying 2" },
        { "00 53 75 a1 02 68 69", "a data section holding a string" },
        { "00 53 75 a0 02 68 69 ff", "a byte after the last section" },
        { "00 53 73 c0 10 01", "a properties list cut short" },
        { "00 53 77", "an amqp-value section without its value" },
        { "00 80 00 00 00 00 00 00 00 75", "a ulong data descriptor and nothing else" },
        { $"00 a3 10 {DataName}", "a symbolic data descriptor and nothing else" },
        { "00 53 77 41 00 53 77 41", "two amqp-value sections" },
    };

    [Theory]
    [MemberData(nameof(RawEntries))]
    public void Raw_entries_decode_to_their_bytes_as_the_body(string hex, string why)
    {
        var entry = Hex(hex);
        Assert.True(Message.DetectFormat(entry) == EntryFormat.Raw, why);
        Assert.False(Message.LooksLikeAmqp(entry), why);

        var message = Message.DecodeEntry(entry);
        AssertRaw(entry, message);
        Assert.True(MemoryMarshalSame(entry, message.Body), "DecodeEntry aliases the entry");

        Assert.True(Message.TryDecodeEntry(entry, out var tried), why);
        AssertRaw(entry, tried);

        var delivery = NewDelivery(entry);
        Assert.Equal(EntryFormat.Raw, delivery.Format);
        var decoded = delivery.DecodeMessage();
        AssertRaw(entry, decoded);
        Assert.True(delivery.TryDecodeMessage(out var triedDelivery));
        AssertRaw(entry, triedDelivery);

        // Detached: the delivery's buffer is reused after the handler, the decoded message must not see it.
        if (entry.Length > 0)
        {
            var before = decoded.Body.ToArray();
            entry[0] ^= 0xff;
            Assert.Equal(before, decoded.Body.ToArray());
        }
    }

    [Fact]
    public void Rstream_hello_world_reads_back_as_its_text()
    {
        var delivery = NewDelivery(Encoding.UTF8.GetBytes("Hello, World!"));
        var message = delivery.DecodeMessage();
        Assert.Equal(EntryFormat.Raw, message.Format);
        Assert.Equal("Hello, World!", Encoding.UTF8.GetString(message.Body.Span));
    }

    [Theory]
    [MemberData(nameof(ValidAmqpEntries))]
    public void Valid_AMQP_entries_decode_as_AMQP(string hex, string why)
    {
        var entry = Hex(hex);
        Assert.True(Message.DetectFormat(entry) == EntryFormat.Amqp, why);
        Assert.True(Message.LooksLikeAmqp(entry), why);

        foreach (var message in new[] { Message.DecodeEntry(entry), NewDelivery(entry).DecodeMessage() })
        {
            Assert.Equal(EntryFormat.Amqp, message.Format);
            Assert.Equal(MessageBodyKind.Data, message.BodyKind);
            Assert.Equal("hi", Encoding.UTF8.GetString(message.Body.Span));
        }

        Assert.Equal(EntryFormat.Amqp, NewDelivery(entry).Format);
        Assert.True(NewDelivery(entry).TryDecodeMessage(out var tried));
        Assert.Equal(EntryFormat.Amqp, tried.Format);
    }

    [Theory]
    [MemberData(nameof(CorruptAmqpEntries))]
    public void Corrupt_or_truncated_AMQP_still_throws_and_is_never_taken_for_raw(string hex, string why)
    {
        var entry = Hex(hex);
        Assert.True(Message.DetectFormat(entry) == EntryFormat.Amqp, why);
        Assert.Throws<AmqpDecodeException>(() => Message.DecodeEntry(entry));
        Assert.Throws<AmqpDecodeException>(() => Message.Decode(entry));

        var delivery = NewDelivery(entry);
        Assert.Equal(EntryFormat.Amqp, delivery.Format);
        Assert.Throws<AmqpDecodeException>(() => delivery.DecodeMessage());
        Assert.False(delivery.TryDecodeMessage(out var message), why);
        Assert.Null(message);
        Assert.False(Message.TryDecodeEntry(entry, out var entryMessage), why);
        Assert.Null(entryMessage);
    }

    [Fact]
    public void Messages_built_in_code_are_AMQP()
    {
        Assert.Equal(EntryFormat.Amqp, new Message().Format);
        Assert.Equal(EntryFormat.Amqp, new Message(new byte[] { 1 }).Format);
    }

    [Fact]
    public void Every_encoded_message_with_a_section_is_detected_as_AMQP_and_decodes_the_same_leniently()
    {
        var generator = new AmqpRandomGenerator(20261201);
        for (var i = 0; i < 500; i++)
        {
            var message = generator.NextMessage();
            var encoded = EncodeMessage(message);
            if (encoded.Length == 0)
            {
                // Only a message with no section at all encodes to nothing; read back, it is an empty raw body.
                Assert.Equal(EntryFormat.Raw, Message.DetectFormat(encoded));
                continue;
            }

            Assert.Equal(EntryFormat.Amqp, Message.DetectFormat(encoded));
            var lenient = Message.DecodeEntry(encoded);
            Assert.Equal(EntryFormat.Amqp, lenient.Format);
            AssertMessagesEqual(message, lenient);
        }
    }

    [Fact]
    public void The_decoder_accepts_nothing_the_rule_calls_raw()
    {
        // Random entries biased towards AMQP-looking starts: whatever the rule calls raw, the strict decoder rejects
        // (or it is empty), so lenient decoding never hides an AMQP message behind its raw bytes.
        var random = new Random(20261202);
        byte[][] prefixes = [[], [0x00], [0x00, 0x53], [0x00, 0x80, 0, 0, 0, 0, 0, 0, 0], [0x00, 0xa3], [0x00, 0x52], [0x00, 0x44]];
        var raw = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var prefix = prefixes[random.Next(prefixes.Length)];
            var entry = new byte[prefix.Length + random.Next(12)];
            random.NextBytes(entry);
            prefix.CopyTo(entry, 0);
            if (Message.DetectFormat(entry) == EntryFormat.Amqp)
            {
                continue;
            }

            raw++;
            if (entry.Length > 0)
            {
                Assert.Throws<AmqpDecodeException>(() => Message.Decode(entry));
            }

            AssertRaw(entry, Message.DecodeEntry(entry));
        }

        Assert.InRange(raw, 5_000, 20_000);
    }

    private static Delivery NewDelivery(byte[] entry) => new(null!, 7, 0, 0, entry);

    private static void AssertRaw(byte[] entry, Message message)
    {
        Assert.Equal(EntryFormat.Raw, message.Format);
        Assert.Equal(MessageBodyKind.Data, message.BodyKind);
        Assert.Equal(entry, message.Body.ToArray());
        Assert.Null(message.DataSections);
        Assert.Null(message.Header);
        Assert.Null(message.Properties);
        Assert.Null(message.ApplicationProperties);
        Assert.Null(message.MessageAnnotations);
    }

    private static bool MemoryMarshalSame(byte[] entry, ReadOnlyMemory<byte> body) =>
        entry.Length == 0 || (System.Runtime.InteropServices.MemoryMarshal.TryGetArray(body, out var segment) && ReferenceEquals(segment.Array, entry));
}
