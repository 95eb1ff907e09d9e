namespace Streams.Client;

/// <summary>
/// A user name and a secret (a password, or an OAuth 2 access token for brokers with the OAuth 2 backend) for the SASL
/// PLAIN login of a stream connection. <see cref="ToString"/> never shows the secret.
/// </summary>
public sealed class StreamCredentials
{
    /// <summary>Creates credentials.</summary>
    /// <param name="userName">The user name (not empty). With OAuth 2 the broker ignores it, but it must stay the same for a connection's life.</param>
    /// <param name="password">The password or token (not null; may be empty).</param>
    /// <exception cref="ArgumentException"><paramref name="userName"/> is null or empty, or contains a NUL character.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="password"/> is null.</exception>
    public StreamCredentials(string userName, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentNullException.ThrowIfNull(password);
        if (userName.Contains('\0', StringComparison.Ordinal) || password.Contains('\0', StringComparison.Ordinal))
        {
            // SASL PLAIN separates the fields with NUL: a NUL inside either one would change what the broker reads.
            throw new ArgumentException("A user name or password must not contain a NUL character (SASL PLAIN uses it as the separator).",
                userName.Contains('\0', StringComparison.Ordinal) ? nameof(userName) : nameof(password));
        }

        UserName = userName;
        Password = password;
    }

    /// <summary>The user name.</summary>
    public string UserName { get; }

    /// <summary>The password or token. Never logged.</summary>
    public string Password { get; }

    /// <summary>The user name only: the secret is never shown.</summary>
    public override string ToString() => $"StreamCredentials {{ UserName = {UserName}, Password = *** }}";
}
