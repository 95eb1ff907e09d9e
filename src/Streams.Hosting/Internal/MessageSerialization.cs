using System.Runtime.InteropServices;
using System.Text;
using Streams.Client;

namespace Streams.Hosting.Internal;

/// <summary>Chooses between the raw pass-through types and the registered serializers.</summary>
internal sealed class MessageSerialization
{
    internal const string OctetStream = "application/octet-stream";
    internal const string TextPlain = "text/plain; charset=utf-8";

    private readonly IStreamSerializer _default;
    private readonly IStreamSerializer[] _all;

    public MessageSerialization(IEnumerable<IStreamSerializer> serializers)
    {
        // The last registered serializer is the default for publishing and for messages without a known content type.
        _all = serializers.Reverse().ToArray();
        _default = _all.Length > 0 ? _all[0] : new SystemTextJsonStreamSerializer();
    }

    public IStreamSerializer Default => _default;

    /// <summary>Builds the message for <paramref name="value"/> (properties set by the caller afterwards).</summary>
    public Message ToMessage<T>(T value)
    {
        switch (value)
        {
            case Message message:
                return message;
            case byte[] bytes:
                return WithContentType(new Message(bytes), OctetStream);
            case ReadOnlyMemory<byte> memory:
                return WithContentType(new Message(memory), OctetStream);
            case Memory<byte> memory:
                return WithContentType(new Message(memory), OctetStream);
            case string text:
                return WithContentType(new Message(Encoding.UTF8.GetBytes(text)), TextPlain);
            default:
                return WithContentType(new Message(_default.Serialize(value)), _default.ContentType);
        }
    }

    /// <summary>Reads a <typeparamref name="T"/> out of a decoded message.</summary>
    public T FromMessage<T>(Message message)
    {
        if (typeof(T) == typeof(Message))
        {
            return (T)(object)message;
        }

        if (typeof(T) == typeof(byte[]))
        {
            return (T)(object)BodyArray(message);
        }

        if (typeof(T) == typeof(ReadOnlyMemory<byte>))
        {
            return (T)(object)message.Body;
        }

        if (typeof(T) == typeof(string))
        {
            return (T)(object)Encoding.UTF8.GetString(message.Body.Span);
        }

        return Find(message.Properties?.ContentType).Deserialize<T>(message.Body);
    }

    /// <summary>
    /// The body as an array: a decoded message owns its body (a copy out of the client's buffer), handed over as it
    /// is; any other body is copied.
    /// </summary>
    private static byte[] BodyArray(Message message)
    {
        var body = message.Body;
        return MemoryMarshal.TryGetArray(body, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : body.ToArray();
    }

    /// <summary>
    /// The serializer for a content type (parameters and case ignored; a structured-syntax suffix such as
    /// <c>application/vnd.orders+json</c> matches the serializer of <c>application/json</c>); the default when the message
    /// has no content type. A content type that no serializer reads throws <see cref="StreamSerializerNotFoundException"/>:
    /// guessing another format would turn a missing registration into a stream of failing (dead-lettered) messages.
    /// </summary>
    public IStreamSerializer Find(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return _default;
        }

        var mediaType = MediaType(contentType);
        foreach (var serializer in _all)
        {
            if (MediaType(serializer.ContentType).Equals(mediaType, StringComparison.OrdinalIgnoreCase))
            {
                return serializer;
            }
        }

        var plus = mediaType.LastIndexOf('+');
        if (plus > 0 && mediaType.IndexOf('/', StringComparison.Ordinal) is var slash and > 0 && plus > slash)
        {
            var generic = string.Concat(mediaType.AsSpan(0, slash + 1), mediaType.AsSpan(plus + 1));
            foreach (var serializer in _all.Append(_default))
            {
                if (MediaType(serializer.ContentType).Equals(generic, StringComparison.OrdinalIgnoreCase))
                {
                    return serializer;
                }
            }
        }

        if (MediaType(_default.ContentType).Equals(mediaType, StringComparison.OrdinalIgnoreCase))
        {
            return _default;
        }

        var known = string.Join(", ", _all.Append(_default).Select(x => x.ContentType).Distinct(StringComparer.OrdinalIgnoreCase));
        throw new StreamSerializerNotFoundException(
            $"No serializer reads content type '{contentType}' (registered: {known}); register one with AddSerializer(...) " +
            "(an IStreamSerializer whose ContentType is that media type), or consume the stream as byte[] or Message.")
        {
            ContentType = contentType,
        };
    }

    private static ReadOnlySpan<char> MediaTypeSpan(string contentType)
    {
        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon < 0 ? contentType.AsSpan() : contentType.AsSpan(0, semicolon)).Trim();
    }

    private static string MediaType(string contentType) => MediaTypeSpan(contentType).ToString();

    private static Message WithContentType(Message message, string contentType)
    {
        message.Properties ??= new MessageProperties();
        message.Properties.ContentType ??= contentType;
        return message;
    }
}
