namespace Streams.Hosting;

/// <summary>
/// Turns message objects into message bodies and back. The default is <see cref="SystemTextJsonStreamSerializer"/>;
/// register others with <see cref="IRabbitStreamsBuilder.AddSerializer(IStreamSerializer)"/>. <c>byte[]</c>,
/// <c>ReadOnlyMemory&lt;byte&gt;</c>, <c>string</c> (UTF-8) and <see cref="Streams.Client.Message"/> never go through a serializer.
/// </summary>
public interface IStreamSerializer
{
    /// <summary>The content type written on published messages and matched (case-insensitive, parameters ignored) on consumed ones.</summary>
    string ContentType { get; }

    /// <summary>Serializes <paramref name="value"/>.</summary>
    /// <typeparam name="T">The declared type.</typeparam>
    /// <param name="value">The message.</param>
    /// <returns>The message body.</returns>
    ReadOnlyMemory<byte> Serialize<T>(T value);

    /// <summary>Deserializes a message body.</summary>
    /// <typeparam name="T">The expected type.</typeparam>
    /// <param name="body">The message body.</param>
    /// <returns>The message.</returns>
    T Deserialize<T>(ReadOnlyMemory<byte> body);
}
