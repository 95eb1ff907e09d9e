using System.Collections;
using System.Globalization;
using Streams.Client.Amqp;

namespace Streams.Client.Tests.Amqp;

internal static class AmqpTestHelpers
{
    /// <summary>Parses "52 05 a1" style hex (spaces optional) into bytes.</summary>
    public static byte[] Hex(string hex)
    {
        var clean = hex.Replace(" ", string.Empty, StringComparison.Ordinal);
        return Convert.FromHexString(clean);
    }

    public static string ToHex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

    public static byte[] EncodeValue(object? value)
    {
        var buffer = new byte[AmqpWriter.SizeOf(value)];
        var writer = new AmqpWriter(buffer);
        writer.WriteValue(value);
        Assert.Equal(buffer.Length, writer.Position);
        return buffer;
    }

    public static object? DecodeValue(byte[] bytes)
    {
        var reader = new AmqpReader(bytes);
        var value = reader.ReadValue();
        Assert.True(reader.IsAtEnd, "the value did not consume all bytes");
        return value;
    }

    public static byte[] EncodeMessage(Message message)
    {
        var size = AmqpMessageCodec.GetSize(message);
        var buffer = new byte[size];
        var written = AmqpMessageCodec.Encode(message, buffer);
        Assert.Equal(size, written);
        return buffer;
    }

    /// <summary>Structural equality: binary kinds compare by bytes, lists/maps/arrays element-wise in order.</summary>
    public static bool DeepEquals(object? expected, object? actual)
    {
        if (expected is null || actual is null)
        {
            return expected is null && actual is null;
        }

        if (AsBytes(expected) is { } eb)
        {
            return AsBytes(actual) is { } ab && eb.AsSpan().SequenceEqual(ab);
        }

        switch (expected)
        {
            case char c:
                return actual is System.Text.Rune r && r.Value == c;
            case DateTimeOffset edt:
                return actual is DateTimeOffset adt && edt.ToUnixTimeMilliseconds() == adt.ToUnixTimeMilliseconds();
            case AmqpDescribed ed:
                return actual is AmqpDescribed ad && DeepEquals(ed.Descriptor, ad.Descriptor) && DeepEquals(ed.Value, ad.Value);
            case AmqpArray ea:
                return actual is AmqpArray aa && DeepEquals(ea.Descriptor, aa.Descriptor) && SequenceEquals(ea.Items, aa.Items);
            case IDictionary em:
                return actual is IDictionary am && MapEquals(em, am);
            case IList el when expected is not string:
                return actual is IList al && SequenceEquals(el, al);
            default:
                return expected.Equals(actual) && expected.GetType() == actual.GetType();
        }
    }

    private static byte[]? AsBytes(object value) => value switch
    {
        byte[] b => b,
        ReadOnlyMemory<byte> rom => rom.ToArray(),
        Memory<byte> mem => mem.ToArray(),
        _ => null,
    };

    private static bool SequenceEquals(IEnumerable expected, IEnumerable actual)
    {
        var e = expected.Cast<object?>().ToList();
        var a = actual.Cast<object?>().ToList();
        if (e.Count != a.Count)
        {
            return false;
        }

        for (var i = 0; i < e.Count; i++)
        {
            if (!DeepEquals(e[i], a[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool MapEquals(IDictionary expected, IDictionary actual)
    {
        if (expected.Count != actual.Count)
        {
            return false;
        }

        var e = new List<DictionaryEntry>();
        foreach (DictionaryEntry entry in expected)
        {
            e.Add(entry);
        }

        var a = new List<DictionaryEntry>();
        foreach (DictionaryEntry entry in actual)
        {
            a.Add(entry);
        }

        for (var i = 0; i < e.Count; i++)
        {
            var expectedKey = e[i].Key is AmqpSymbol s && a[i].Key is string ? s.Value : e[i].Key;
            if (!DeepEquals(expectedKey, a[i].Key) || !DeepEquals(e[i].Value, a[i].Value))
            {
                return false;
            }
        }

        return true;
    }

    public static void AssertMessagesEqual(Message expected, Message actual)
    {
        Assert.Equal(expected.BodyKind, actual.BodyKind);
        switch (expected.BodyKind)
        {
            case MessageBodyKind.Data:
                Assert.Equal(expected.Body.ToArray(), actual.Body.ToArray());
                Assert.Equal(expected.DataSections?.Count, actual.DataSections?.Count);
                break;
            case MessageBodyKind.AmqpValue:
                Assert.True(DeepEquals(expected.AmqpValue, actual.AmqpValue), "amqp-value differs");
                break;
            case MessageBodyKind.AmqpSequence:
                Assert.True(DeepEquals(expected.AmqpSequence, actual.AmqpSequence), "amqp-sequence differs");
                Assert.Equal(expected.AmqpSequenceSections?.Count, actual.AmqpSequenceSections?.Count);
                break;
        }

        AssertHeaderEqual(expected.Header, actual.Header);
        AssertPropertiesEqual(expected.Properties, actual.Properties);
        Assert.True(DeepEquals(expected.DeliveryAnnotations, actual.DeliveryAnnotations), "delivery annotations differ");
        Assert.True(DeepEquals(expected.MessageAnnotations, actual.MessageAnnotations), "message annotations differ");
        Assert.True(DeepEquals(expected.ApplicationProperties, actual.ApplicationProperties), "application properties differ");
        Assert.True(DeepEquals(expected.Footer, actual.Footer), "footer differs");
    }

    private static void AssertHeaderEqual(MessageHeader? expected, MessageHeader? actual)
    {
        if (expected is null)
        {
            Assert.Null(actual);
            return;
        }

        Assert.NotNull(actual);
        Assert.Equal(expected.Durable, actual.Durable);
        Assert.Equal(expected.Priority, actual.Priority);
        Assert.Equal(expected.Ttl, actual.Ttl);
        Assert.Equal(expected.FirstAcquirer, actual.FirstAcquirer);
        Assert.Equal(expected.DeliveryCount, actual.DeliveryCount);
    }

    private static void AssertPropertiesEqual(MessageProperties? expected, MessageProperties? actual)
    {
        if (expected is null)
        {
            Assert.Null(actual);
            return;
        }

        Assert.NotNull(actual);
        Assert.True(DeepEquals(expected.MessageId, actual.MessageId), "message-id differs");
        Assert.True(DeepEquals(expected.UserId, actual.UserId), "user-id differs");
        Assert.Equal(expected.To, actual.To);
        Assert.Equal(expected.Subject, actual.Subject);
        Assert.Equal(expected.ReplyTo, actual.ReplyTo);
        Assert.True(DeepEquals(expected.CorrelationId, actual.CorrelationId), "correlation-id differs");
        Assert.Equal(expected.ContentType, actual.ContentType);
        Assert.Equal(expected.ContentEncoding, actual.ContentEncoding);
        Assert.Equal(expected.AbsoluteExpiryTime, actual.AbsoluteExpiryTime);
        Assert.Equal(expected.CreationTime, actual.CreationTime);
        Assert.Equal(expected.GroupId, actual.GroupId);
        Assert.Equal(expected.GroupSequence, actual.GroupSequence);
        Assert.Equal(expected.ReplyToGroupId, actual.ReplyToGroupId);
    }

    public static string Describe(object? value) => value switch
    {
        null => "null",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}
