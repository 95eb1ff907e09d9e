namespace Streams.Client;

/// <summary>
/// Supplies the credentials of every connection a <see cref="StreamSystem"/> opens: the management connection, every
/// producer and consumer connection, and every reconnection of their recovery. Set it on
/// <see cref="StreamSystemOptions.CredentialsProvider"/> when the secret changes over time (rotated passwords, OAuth 2
/// tokens); build one with <see cref="StreamCredentialsProvider"/>.
/// </summary>
/// <remarks>
/// The provider is called once per connection attempt, so it should be fast (cache the secret and refresh it in the
/// background). A provider that throws, returns <see langword="null"/> or does not answer within
/// <see cref="StreamSystemOptions.ConnectTimeout"/> fails that attempt with <see cref="StreamCredentialsException"/>;
/// recovery retries it with back-off. Implement <see cref="INotifyStreamCredentialsChanged"/> as well to have open
/// connections re-authenticate as soon as the secret changes.
/// </remarks>
public interface IStreamCredentialsProvider
{
    /// <summary>The credentials to log in with now.</summary>
    /// <param name="cancellationToken">Cancels the call (connect cancelled or timed out).</param>
    ValueTask<StreamCredentials> GetCredentialsAsync(CancellationToken cancellationToken);
}

/// <summary>
/// A credentials provider that announces changes. A <see cref="StreamSystem"/> whose
/// <see cref="StreamSystemOptions.CredentialsProvider"/> implements it re-authenticates every open connection
/// (<see cref="StreamSystem.ReauthenticateAsync"/>) each time <see cref="CredentialsChanged"/> is raised.
/// </summary>
public interface INotifyStreamCredentialsChanged
{
    /// <summary>Raised after the provider's current credentials changed.</summary>
    event EventHandler? CredentialsChanged;
}
