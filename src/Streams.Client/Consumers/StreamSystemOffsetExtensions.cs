namespace Streams.Client;

/// <summary>Offset tracking from a <see cref="StreamSystem"/> beyond the plain store and query.</summary>
public static class StreamSystemOffsetExtensions
{
    /// <summary>How long <see cref="StoreOffsetAndWaitAsync"/> waits by default.</summary>
    public static readonly TimeSpan DefaultReadBackTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Stores <paramref name="offset"/> for <paramref name="reference"/> on <paramref name="stream"/> and waits until the
    /// broker returns it from a query: a store is not answered on the wire, so a tool that stores and then reads
    /// (or starts a consumer) would otherwise race it.
    /// </summary>
    /// <param name="system">The system.</param>
    /// <param name="reference">The consumer name.</param>
    /// <param name="stream">The stream.</param>
    /// <param name="offset">The offset to store.</param>
    /// <param name="timeout">How long to wait for the broker to return it (null: <see cref="DefaultReadBackTimeout"/>).</param>
    /// <param name="cancellationToken">Stops waiting (the offset may still be stored).</param>
    /// <exception cref="StreamTimeoutException">The broker did not return the offset within <paramref name="timeout"/> (another writer may have stored a different one).</exception>
    public static async Task StoreOffsetAndWaitAsync(this StreamSystem system, string reference, string stream, ulong offset, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(system);
        var wait = timeout ?? DefaultReadBackTimeout;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(wait, TimeSpan.Zero, nameof(timeout));
        await system.StoreOffsetAsync(reference, stream, offset, cancellationToken).ConfigureAwait(false);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(wait);
        try
        {
            while (await system.QueryOffsetAsync(reference, stream, deadline.Token).ConfigureAwait(false) != offset)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new StreamTimeoutException($"The broker did not report offset {offset} for '{reference}' on {stream} within {wait.TotalSeconds:F0} s.");
        }
    }
}
