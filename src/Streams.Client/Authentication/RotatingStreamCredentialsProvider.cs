namespace Streams.Client;

/// <summary>
/// Credentials held in memory and replaced with <see cref="Update"/>, e.g. by the code that renews an OAuth 2 token or
/// receives a rotated password. Each update raises <see cref="CredentialsChanged"/>, so a <see cref="StreamSystem"/>
/// using this provider re-authenticates its open connections with the new secret.
/// </summary>
public sealed class RotatingStreamCredentialsProvider : IStreamCredentialsProvider, INotifyStreamCredentialsChanged
{
    private StreamCredentials _current;

    /// <summary>Creates the provider with its first credentials.</summary>
    /// <param name="initial">The credentials to start with.</param>
    public RotatingStreamCredentialsProvider(StreamCredentials initial)
    {
        ArgumentNullException.ThrowIfNull(initial);
        _current = initial;
    }

    /// <inheritdoc />
    public event EventHandler? CredentialsChanged;

    /// <summary>The credentials returned now.</summary>
    public StreamCredentials Current => Volatile.Read(ref _current);

    /// <summary>Replaces the credentials and raises <see cref="CredentialsChanged"/>.</summary>
    /// <param name="credentials">The new credentials. Open connections keep their user: change only the secret.</param>
    public void Update(StreamCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        Volatile.Write(ref _current, credentials);
        CredentialsChanged?.Invoke(this, EventArgs.Empty);
    }

    /// <inheritdoc />
    public ValueTask<StreamCredentials> GetCredentialsAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Current);
}
