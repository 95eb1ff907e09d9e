using System.Text;
using Streams.Client;
using Streams.Hosting.Internal;
using Streams.Hosting.Tests.Consuming;

namespace Streams.Hosting.Tests.Publishing;

public sealed class SerializationTests
{
    private sealed class UpperSerializer : IStreamSerializer
    {
        public string ContentType => "text/x-upper";

        public ReadOnlyMemory<byte> Serialize<T>(T value) => Encoding.UTF8.GetBytes(value!.ToString()!.ToUpperInvariant());

        public T Deserialize<T>(ReadOnlyMemory<byte> body) => (T)(object)new Order(Encoding.UTF8.GetString(body.Span), 0);
    }

    [Fact]
    public void Json_by_default_with_content_type()
    {
        var serialization = new MessageSerialization([]);
        var message = serialization.ToMessage(new Order("o-1", 12.5m));
        Assert.Equal("application/json", message.Properties!.ContentType);
        Assert.Equal("""{"id":"o-1","amount":12.5}""", Encoding.UTF8.GetString(message.Body.Span));
        Assert.Equal(new Order("o-1", 12.5m), serialization.FromMessage<Order>(message));
    }

    [Fact]
    public void Raw_types_pass_through()
    {
        var serialization = new MessageSerialization([]);
        var bytes = serialization.ToMessage(new byte[] { 1, 2, 3 });
        Assert.Equal("application/octet-stream", bytes.Properties!.ContentType);
        Assert.Equal([1, 2, 3], serialization.FromMessage<byte[]>(bytes));
        Assert.Equal([1, 2, 3], serialization.FromMessage<ReadOnlyMemory<byte>>(serialization.ToMessage(new ReadOnlyMemory<byte>([1, 2, 3]))).ToArray());

        var text = serialization.ToMessage("héllo");
        Assert.Equal("text/plain; charset=utf-8", text.Properties!.ContentType);
        Assert.Equal("héllo", serialization.FromMessage<string>(text));

        var amqp = new Message(new byte[] { 9 }) { Properties = new MessageProperties { Subject = "s" } };
        Assert.Same(amqp, serialization.ToMessage(amqp));
        Assert.Same(amqp, serialization.FromMessage<Message>(amqp));
    }

    [Fact]
    public void Serializers_are_chosen_by_content_type_and_last_added_is_default()
    {
        var serialization = new MessageSerialization([new SystemTextJsonStreamSerializer(), new UpperSerializer()]);
        var upper = serialization.ToMessage(new Order("x", 1));
        Assert.Equal("text/x-upper", upper.Properties!.ContentType);

        var json = new Message(Encoding.UTF8.GetBytes("""{"id":"a","amount":1}""")) { Properties = new MessageProperties { ContentType = "Application/JSON; charset=utf-8" } };
        Assert.Equal(new Order("a", 1), serialization.FromMessage<Order>(json));
        Assert.Equal(new Order("UP", 0), serialization.FromMessage<Order>(new Message(Encoding.UTF8.GetBytes("UP"))));
    }

    [Fact]
    public void Json_null_for_a_non_nullable_type_is_an_error()
    {
        var serializer = new SystemTextJsonStreamSerializer();
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => serializer.Deserialize<int>(Encoding.UTF8.GetBytes("null")));
        Assert.Null(serializer.Deserialize<Order>(Encoding.UTF8.GetBytes("null")));
    }
}
