using System.Text.Json;

namespace Streams.Hosting;

/// <summary>JSON with System.Text.Json (web defaults: camelCase, case-insensitive reading); content type <c>application/json</c>.</summary>
public sealed class SystemTextJsonStreamSerializer : IStreamSerializer
{
    /// <summary>The content type this serializer writes.</summary>
    public const string JsonContentType = "application/json";

    private readonly JsonSerializerOptions _options;

    /// <summary>Creates a serializer.</summary>
    /// <param name="options">Serializer options (default: <see cref="JsonSerializerDefaults.Web"/>).</param>
    public SystemTextJsonStreamSerializer(JsonSerializerOptions? options = null)
    {
        _options = options ?? new JsonSerializerOptions(JsonSerializerDefaults.Web);
    }

    /// <inheritdoc />
    public string ContentType => JsonContentType;

    /// <inheritdoc />
    public ReadOnlyMemory<byte> Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, _options);

    /// <inheritdoc />
    public T Deserialize<T>(ReadOnlyMemory<byte> body)
    {
        var value = JsonSerializer.Deserialize<T>(body.Span, _options);
        return value is null && default(T) is not null
            ? throw new JsonException($"The message body deserialized to null, which is not a valid {typeof(T).Name}.")
            : value!;
    }
}
