namespace Streams.Hosting.Testing.Containers;

/// <summary>How a <see cref="RabbitStreamsContainer"/> is started.</summary>
public sealed class RabbitStreamsContainerOptions
{
    /// <summary>The image used when neither <see cref="Image"/> nor <see cref="ImageVariable"/> names one.</summary>
    public const string DefaultImage = "rabbitmq:4-management";

    /// <summary>The environment variable that overrides <see cref="DefaultImage"/> (e.g. a locally built image).</summary>
    public const string ImageVariable = "STREAMS_RABBITMQ_IMAGE";

    /// <summary>
    /// The RabbitMQ image (4.x, with the <c>rabbitmq_stream</c> plugin shipped; it need not be enabled). Default: the
    /// <see cref="ImageVariable"/> environment variable, else <see cref="DefaultImage"/>.
    /// </summary>
    public string Image { get; set; } = ImageFromEnvironment();

    /// <summary>The user the broker is created with (default <c>streams</c>).</summary>
    public string UserName { get; set; } = "streams";

    /// <summary>Its password (default <c>streams</c>).</summary>
    public string Password { get; set; } = "streams";

    /// <summary>
    /// How long starting may take, from creating the container until the broker answers a stream-protocol handshake
    /// (default 3 minutes, which includes pulling the image when it is missing).
    /// </summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Image))
        {
            throw new ArgumentException("Image must name a RabbitMQ 4.x image, e.g. " + DefaultImage + ".", nameof(Image));
        }

        ValidateCredential(UserName, nameof(UserName));
        ValidateCredential(Password, nameof(Password));
        if (StartTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"StartTimeout must be positive; got {StartTimeout}.", nameof(StartTimeout));
        }
    }

    /// <summary>The image named by <see cref="ImageVariable"/>, or <see cref="DefaultImage"/>.</summary>
    public static string ImageFromEnvironment() =>
        Environment.GetEnvironmentVariable(ImageVariable) is { Length: > 0 } image ? image.Trim() : DefaultImage;

    private static void ValidateCredential(string value, string name)
    {
        // The value goes into rabbitmq.conf as it is: one line, no characters the config parser treats specially.
        if (string.IsNullOrEmpty(value) || value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '#' or '"' or '\''))
        {
            throw new ArgumentException($"{name} must be non-empty, without whitespace, quotes or '#'.", name);
        }
    }
}
