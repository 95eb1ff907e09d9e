using Streams.Client;
using Streams.Hosting.Internal.Backend;
using Streams.Hosting.Internal.Pipeline;

namespace Streams.Hosting.Tests.Pipeline;

public sealed class DeliveryDecoderTests
{
    private static readonly DateTimeOffset Written = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    [Fact]
    public void A_body_alone_keeps_a_copy_of_its_body_and_builds_no_message()
    {
        var entry = new Message(new byte[] { 1, 2, 3 }).ToArray();
        var buffer = entry.ToArray();
        var item = DeliveryDecoder.ToItem(new StreamDelivery(7, 5, Written, buffer));
        buffer.AsSpan().Clear(); // the source reuses its buffer

        Assert.Equal((7UL, 5UL, Written), (item.Offset, item.ChunkId, item.Timestamp));
        Assert.Null(item.Message);
        Assert.Equal(new byte[] { 1, 2, 3 }, item.Body);
        Assert.Equal(new byte[] { 1, 2, 3 }, item.GetMessage()!.Body.ToArray());
    }

    [Fact]
    public void A_message_with_properties_is_decoded_and_detached_from_the_buffer()
    {
        var buffer = new Message(new byte[] { 9 }) { Properties = new MessageProperties { MessageId = "m-1", GroupId = "g" } }.ToArray();
        var item = DeliveryDecoder.ToItem(new StreamDelivery(1, 0, Written, buffer));
        buffer.AsSpan().Clear();

        Assert.NotNull(item.Message);
        Assert.Equal("m-1", item.Message.Properties!.MessageId);
        Assert.Equal(new byte[] { 9 }, item.Message.Body.ToArray());
        Assert.Null(item.Undecodable);
    }

    [Fact]
    public void Bytes_that_are_not_amqp_are_a_raw_entry_with_their_bytes_as_body()
    {
        var raw = "hello, not AMQP"u8.ToArray();
        var item = DeliveryDecoder.ToItem(new StreamDelivery(2, 0, Written, raw));

        Assert.Equal(raw, item.Body);
        Assert.Equal(EntryFormat.Raw, item.Message!.Format);
    }

    [Fact]
    public void A_truncated_amqp_entry_is_kept_undecodable_with_its_error()
    {
        var entry = new Message(new byte[100]) { Properties = new MessageProperties { MessageId = "m" } }.ToArray();
        var truncated = entry.AsSpan(0, entry.Length - 10).ToArray();
        var item = DeliveryDecoder.ToItem(new StreamDelivery(3, 0, Written, truncated));

        Assert.NotNull(item.Undecodable);
        Assert.Equal(truncated, item.Undecodable.Entry);
        Assert.Null(item.GetMessage());
    }
}
