using Streams.Client;

namespace Streams.Hosting.Tests.Consuming;

public sealed class StreamContextTests
{
    [Fact]
    public void Headers_and_ids_come_from_the_raw_message()
    {
        var message = new Message(new byte[] { 1 })
        {
            Properties = new MessageProperties { MessageId = 42UL, CorrelationId = new byte[] { 0xAB, 0x01 }, ContentType = "application/json" },
            ApplicationProperties = new Dictionary<string, object?> { ["tenant"] = "acme" },
        };

        var context = new StreamContext { Stream = "orders", Offset = 7, RawMessage = message };

        Assert.Equal("42", context.MessageId);
        Assert.Equal("AB01", context.CorrelationId);
        Assert.Equal("application/json", context.ContentType);
        Assert.Equal("acme", context.Headers["tenant"]);
        Assert.Equal("orders", context.SourceStream);
        Assert.Equal(1, context.Attempt);
    }

    [Fact]
    public void Values_set_explicitly_win_and_default_to_none()
    {
        var context = new StreamContext
        {
            Stream = "orders",
            Partition = "orders-1",
            Offset = 3,
            ConsumerName = "billing",
            MessageId = "m-1",
            RawMessage = new Message(new byte[] { 1 }) { Properties = new MessageProperties { ContentType = "text/plain" } },
        };

        Assert.Equal(("orders", "orders-1", "billing", "m-1"), (context.Stream, context.Partition, context.ConsumerName, context.MessageId));
        Assert.Null(context.ContentType);
        Assert.Empty(context.Headers);
        Assert.Equal("orders-1@3 (consumer billing, attempt 1)", context.ToString());
    }

    [Fact]
    public void A_context_without_a_message_has_no_headers()
    {
        var context = new StreamContext { Stream = "orders", Offset = 0 };
        Assert.Empty(context.Headers);
        Assert.Null(context.MessageId);
    }
}
