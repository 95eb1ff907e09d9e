using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Streams.Client.Connections;

namespace Streams.Client.Authentication;

/// <summary>
/// The open connections of one <see cref="StreamSystem"/> (management, producers, consumers) and their re-authentication
/// with the current credentials: on demand, and whenever an <see cref="INotifyStreamCredentialsChanged"/> provider says
/// the secret changed. Runs are serialized, so the last change is the one the connections end up with.
/// </summary>
internal sealed class Reauthenticator : IDisposable
{
    private readonly ConcurrentDictionary<StreamConnection, byte> _open = new();
    private readonly StreamSystemOptions _options;
    private readonly IStreamCredentialsProvider? _provider;
    private readonly INotifyStreamCredentialsChanged? _notifier;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();

    public Reauthenticator(StreamSystemOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _provider = options.CredentialsProvider;
        _notifier = _provider as INotifyStreamCredentialsChanged;
        if (_notifier is not null)
        {
            _notifier.CredentialsChanged += OnCredentialsChanged;
        }
    }

    /// <summary>The connections currently open.</summary>
    public IReadOnlyCollection<StreamConnection> OpenConnections => [.. _open.Keys.Where(c => c.IsOpen)];

    /// <summary>Adds a freshly opened connection; it leaves the set when it closes.</summary>
    public StreamConnection Track(StreamConnection connection)
    {
        _open.TryAdd(connection, 0);
        connection.Closed += (sender, _) => _open.TryRemove((StreamConnection)sender!, out var _);
        if (!connection.IsOpen)
        {
            _open.TryRemove(connection, out _);
        }

        return connection;
    }

    /// <summary>
    /// Re-authenticates every open connection with the current credentials. Returns how many did; throws the first
    /// refusal (<see cref="AuthenticationFailureException"/>) after every connection was tried (refused connections are
    /// closed and recover), or <see cref="StreamCredentialsException"/> when the provider fails (nothing is sent then).
    /// </summary>
    public async Task<int> ReauthenticateAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var credentials = _provider is null
                ? new StreamCredentials(_options.UserName, _options.Password)
                : await CredentialsResolver.GetAsync(_provider, _options.ConnectTimeout, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            var connections = OpenConnections.ToArray();
            var outcomes = await Task.WhenAll(connections.Select(c => TryReauthenticateAsync(c, credentials, cancellationToken))).ConfigureAwait(false);
            var renewed = outcomes.Count(o => o.Renewed);
            var failures = outcomes.Where(o => o.Failure is not null).Select(o => o.Failure!).ToArray();
            AuthenticationLog.Reauthenticated(_logger, renewed, connections.Length, failures.Length);
            if (failures.Length > 0)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(
                    failures.FirstOrDefault(f => f is AuthenticationFailureException) ?? failures[0]).Throw();
            }

            return renewed;
        }
        finally
        {
            _gate.Release();
        }
    }

    private static async Task<(bool Renewed, Exception? Failure)> TryReauthenticateAsync(StreamConnection connection, StreamCredentials credentials, CancellationToken cancellationToken)
    {
        try
        {
            return (await connection.ReauthenticateAsync(credentials, cancellationToken).ConfigureAwait(false), null);
        }
        catch (StreamConnectionClosedException)
        {
            // Closed meanwhile: its recovery logs in again with the provider's credentials.
            return (false, null);
        }
        catch (Exception ex) when (ex is StreamClientException && !cancellationToken.IsCancellationRequested)
        {
            return (false, ex);
        }
    }

    private void OnCredentialsChanged(object? sender, EventArgs e) => _ = ReauthenticateOnChangeAsync();

    private async Task ReauthenticateOnChangeAsync()
    {
        try
        {
            await ReauthenticateAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        catch (Exception ex)
        {
            AuthenticationLog.ReauthenticationOnChangeFailed(_logger, ex.Message, ex);
        }
    }

    public void Dispose()
    {
        if (_notifier is not null)
        {
            _notifier.CredentialsChanged -= OnCredentialsChanged;
        }

        _stopping.Cancel();
        _stopping.Dispose();
    }
}

internal static partial class AuthenticationLog
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Re-authentication: {Renewed} of {Open} open connections renewed their secret, {Failed} failed")]
    public static partial void Reauthenticated(ILogger logger, int renewed, int open, int failed);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Error, Message = "Re-authenticating the open connections after a credentials change failed: {Error}")]
    public static partial void ReauthenticationOnChangeFailed(ILogger logger, string error, Exception exception);
}
