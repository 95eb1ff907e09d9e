using Streams.Client.Amqp;
using static Streams.Client.Tests.Amqp.AmqpTestHelpers;

namespace Streams.Client.Tests.Amqp;

public sealed class AmqpRoundTripTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_messages_round_trip(int seed)
    {
        var generator = new AmqpRandomGenerator(seed);
        for (var i = 0; i < 1000; i++)
        {
            var message = generator.NextMessage();
            var encoded = EncodeMessage(message);
            var decoded = AmqpMessageCodec.Decode(encoded.AsMemory());
            AssertMessagesEqual(message, decoded);

            // Re-encoding the decoded message gives the same bytes (smallest encodings are deterministic).
            Assert.Equal(ToHex(encoded), ToHex(EncodeMessage(decoded)));
        }
    }

    [Theory]
    [InlineData(10)]
    [InlineData(11)]
    public void Random_values_round_trip(int seed)
    {
        var generator = new AmqpRandomGenerator(seed);
        for (var i = 0; i < 2000; i++)
        {
            var value = generator.NextValue(0);
            var encoded = EncodeValue(value);
            var decoded = DecodeValue(encoded);
            Assert.True(DeepEquals(value, decoded), $"value #{i} {Describe(value)} decoded as {Describe(decoded)}");
            Assert.Equal(ToHex(encoded), ToHex(EncodeValue(decoded)));
        }
    }
}
