using static Streams.Client.Tests.Amqp.AmqpTestHelpers;

namespace Streams.Client.Tests.Amqp;

/// <summary><see cref="Message.TryGetBareBody"/>: the body of an entry that is one data section and nothing else.</summary>
public sealed class BareBodyTests
{
    [Theory]
    [InlineData("00 53 75 a0 02 68 69", 5, 2)]
    [InlineData("00 53 75 a0 00", 5, 0)]
    [InlineData("00 53 75 b0 00 00 00 02 68 69", 8, 2)]
    [InlineData("00 53 75 b0 00 00 00 00", 8, 0)]
    public void Body_of_a_lone_data_section(string hex, int start, int length)
    {
        Assert.True(Message.TryGetBareBody(Hex(hex), out var bodyStart, out var bodyLength));
        Assert.Equal((start, length), (bodyStart, bodyLength));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("68 69", "not AMQP")]
    [InlineData("00 53 75 a0 03 68 69", "vbin8 announcing more than there is")]
    [InlineData("00 53 75 a0 01 68 69", "a byte after the section")]
    [InlineData("00 53 75 b0 00 00 00 03 68 69", "vbin32 announcing more than there is")]
    [InlineData("00 53 75 b0 00 00 00", "vbin32 without its whole length")]
    [InlineData("00 53 75 a0 02 68 69 00 53 75 a0 00", "two data sections")]
    [InlineData("00 53 73 c0 01 00 00 53 75 a0 02 68 69", "properties before the body")]
    [InlineData("00 53 77 a1 02 68 69", "an amqp-value body")]
    [InlineData("00 80 00 00 00 00 00 00 00 75 a0 02 68 69", "descriptor as a full ulong (decodes; not the short form)")]
    public void Anything_else_is_left_to_the_decoder(string hex, string why)
    {
        Assert.False(Message.TryGetBareBody(Hex(hex), out var start, out var length), why);
        Assert.Equal((0, 0), (start, length));
    }

    [Fact]
    public void Agrees_with_the_codec_on_random_messages()
    {
        var generator = new AmqpRandomGenerator(20261130);
        var bare = 0;
        for (var i = 0; i < 500; i++)
        {
            Message message;
            if (i % 2 == 0)
            {
                // Bodies alone, across the vbin8/vbin32 boundary (255/256 bytes) and beyond.
                var body = new byte[generator.Random.Next(4) == 0 ? generator.Random.Next(70_000) : generator.Random.Next(300)];
                generator.Random.NextBytes(body);
                message = new Message(body);
            }
            else
            {
                message = generator.NextMessage();
            }

            var encoded = EncodeMessage(message);
            var isBare = message.BodyKind == MessageBodyKind.Data && message.DataSections is null && message.Header is null
                && message.DeliveryAnnotations is null && message.MessageAnnotations is null && message.Properties is null
                && message.ApplicationProperties is null && message.Footer is null;

            Assert.Equal(isBare, Message.TryGetBareBody(encoded, out var start, out var length));
            if (isBare)
            {
                bare++;
                Assert.Equal(ToHex(message.Body.Span), ToHex(encoded.AsSpan(start, length)));
                Assert.Equal(ToHex(Message.Decode(encoded).Body.Span), ToHex(encoded.AsSpan(start, length)));
            }
        }

        Assert.True(bare >= 250, $"only {bare} of 500 random messages were a body alone");
    }
}
