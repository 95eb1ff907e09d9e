namespace Streams.Client;

/// <summary>Ready-made <see cref="IStreamCredentialsProvider"/> implementations.</summary>
public static class StreamCredentialsProvider
{
    /// <summary>Always the same user name and password (what <see cref="StreamSystemOptions.UserName"/> and <see cref="StreamSystemOptions.Password"/> mean).</summary>
    /// <param name="userName">The user name (not empty).</param>
    /// <param name="password">The password (not null).</param>
    public static IStreamCredentialsProvider Static(string userName, string password) => new StaticCredentialsProvider(new StreamCredentials(userName, password));

    /// <summary>Calls <paramref name="getCredentials"/> for every connection attempt (e.g. to read a secret store or a token cache).</summary>
    /// <param name="getCredentials">Returns the current credentials.</param>
    public static IStreamCredentialsProvider Create(Func<CancellationToken, ValueTask<StreamCredentials>> getCredentials)
    {
        ArgumentNullException.ThrowIfNull(getCredentials);
        return new DelegateCredentialsProvider(getCredentials);
    }

    private sealed class StaticCredentialsProvider(StreamCredentials credentials) : IStreamCredentialsProvider
    {
        public ValueTask<StreamCredentials> GetCredentialsAsync(CancellationToken cancellationToken) => ValueTask.FromResult(credentials);

        public override string ToString() => $"static {credentials}";
    }

    private sealed class DelegateCredentialsProvider(Func<CancellationToken, ValueTask<StreamCredentials>> getCredentials) : IStreamCredentialsProvider
    {
        public ValueTask<StreamCredentials> GetCredentialsAsync(CancellationToken cancellationToken) => getCredentials(cancellationToken);
    }
}
