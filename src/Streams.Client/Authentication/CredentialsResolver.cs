namespace Streams.Client.Authentication;

/// <summary>Calls a credentials provider with a deadline and turns every failure into <see cref="StreamCredentialsException"/>.</summary>
internal static class CredentialsResolver
{
    public static async ValueTask<StreamCredentials> GetAsync(IStreamCredentialsProvider provider, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(provider);
        using var deadline = new CancellationTokenSource(timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        StreamCredentials? credentials;
        try
        {
            credentials = await provider.GetCredentialsAsync(linked.Token).AsTask().WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException ex) when (deadline.IsCancellationRequested)
        {
            throw new StreamCredentialsException($"The credentials provider ({provider.GetType().Name}) did not return credentials within {timeout}.", ex);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new StreamCredentialsException($"The credentials provider ({provider.GetType().Name}) failed: {ex.Message}", ex);
        }

        return credentials ?? throw new StreamCredentialsException($"The credentials provider ({provider.GetType().Name}) returned null credentials.");
    }
}
