namespace Streams.Client;

/// <summary>
/// The <see cref="StreamSystemOptions.CredentialsProvider"/> failed: it threw, returned <see langword="null"/> or did not
/// answer in time. The connection attempt fails without reaching the broker; recovery retries with back-off.
/// </summary>
public sealed class StreamCredentialsException : StreamClientException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public StreamCredentialsException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">What the provider threw.</param>
    public StreamCredentialsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
