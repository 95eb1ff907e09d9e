using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streams.Client;

namespace Streams.Hosting.Internal;

/// <summary>Where the application's connection stands.</summary>
internal enum ConnectionPhase
{
    /// <summary>Nothing asked for the connection yet.</summary>
    Idle,

    /// <summary>Attempts are being made (with the recovery back-off between them).</summary>
    Connecting,

    /// <summary>The <see cref="StreamSystem"/> is connected.</summary>
    Connected,

    /// <summary>An error that retrying cannot fix (credentials, vhost, TLS), or the attempts ran out: given up until restart.</summary>
    Faulted,
}

/// <summary>
/// The application's <see cref="StreamSystem"/>. The first caller (the host's start, else the first publish) starts a
/// background connect that retries with the <see cref="RabbitStreamsOptions.Recovery"/> back-off until the broker
/// answers; every caller waits for it with its own token. An error that retrying cannot fix faults the connection for
/// good. Once connected, the system reopens its management connection on demand; producers and consumers have their own.
/// </summary>
internal sealed class StreamSystemProvider : IAsyncDisposable
{
    private readonly IOptions<RabbitStreamsOptions> _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string? _applicationName;
    private readonly ICompressionCodec[] _codecs;
    private readonly object _sync = new();
    private CancellationTokenSource _stop = new();
    private Task<StreamSystem>? _connecting;
    private TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private StreamSystem? _system;
    private volatile Exception? _lastError;
    private volatile ConnectionPhase _phase;
    private int _attempts;
    private DateTimeOffset _connectingSince;
    private bool _disposed;

    public StreamSystemProvider(IOptions<RabbitStreamsOptions> options, ILoggerFactory loggerFactory, TimeProvider time, IHostEnvironment? environment = null, IEnumerable<ICompressionCodec>? codecs = null)
    {
        _codecs = codecs?.ToArray() ?? [];
        _applicationName = environment?.ApplicationName;
        _options = options;
        _loggerFactory = loggerFactory;
        _time = time;
        _logger = loggerFactory.CreateLogger("Streams.Hosting.Connection");
    }

    public ConnectionPhase Phase => _phase;

    /// <summary>The last failed attempt's error (connecting), or the reason it gave up (faulted).</summary>
    public Exception? LastError => _lastError;

    /// <summary>Attempts made so far.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>When the connecting started.</summary>
    public DateTimeOffset ConnectingSince => _connectingSince;

    /// <summary>The endpoints, for messages (never with credentials).</summary>
    public string Endpoints
    {
        get
        {
            try
            {
                return string.Join(", ", _options.Value.ToStreamSystemOptions().Endpoints);
            }
            catch (ArgumentException)
            {
                return "(invalid connection string)";
            }
        }
    }

    /// <summary>The connected system, waiting for the background connect; throws when it faulted.</summary>
    public async ValueTask<StreamSystem> GetAsync(CancellationToken cancellationToken)
    {
        var system = Volatile.Read(ref _system);
        if (system is not null)
        {
            return system;
        }

        return await EnsureConnecting().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The host's start: waits for the first attempt. Returns the system when connected, null when the broker is not
    /// reachable and <paramref name="behavior"/> is <see cref="RabbitStreamsStartBehavior.ConnectInBackground"/> (the
    /// attempts go on); throws <see cref="InvalidOperationException"/> naming the endpoints for an error retrying cannot
    /// fix, or for any failure with <see cref="RabbitStreamsStartBehavior.FailFast"/>.
    /// </summary>
    public async Task<StreamSystem?> StartAsync(RabbitStreamsStartBehavior behavior, CancellationToken cancellationToken)
    {
        var connecting = EnsureConnecting();
        TaskCompletionSource first;
        lock (_sync)
        {
            first = _firstAttempt;
        }

        await Task.WhenAny(connecting, first.Task).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (connecting.IsCompletedSuccessfully)
        {
            return connecting.Result;
        }

        if (connecting.IsFaulted)
        {
            // Credentials, vhost, TLS: the same answer every time, so the start fails in either mode (the client's
            // typed exception, e.g. AuthenticationFailureException, naming the endpoint).
            await connecting.ConfigureAwait(false);
        }

        if (behavior == RabbitStreamsStartBehavior.FailFast)
        {
            var error = _lastError;
            await ResetAsync().ConfigureAwait(false);
            throw new InvalidOperationException(
                $"RabbitStreams: the broker is not reachable at start ({Endpoints}) and RabbitStreams:StartBehavior is FailFast: {error?.Message}", error);
        }

        Log.ConnectingInBackground(_logger, Endpoints, _lastError?.Message);
        return null;
    }

    private Task<StreamSystem> EnsureConnecting()
    {
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connecting is null)
            {
                _connectingSince = _time.GetUtcNow();
                _phase = ConnectionPhase.Connecting;
                var stop = _stop.Token;
                var first = _firstAttempt;
                _connecting = Task.Run(() => ConnectLoopAsync(first, stop), CancellationToken.None);
            }

            return _connecting;
        }
    }

    private async Task<StreamSystem> ConnectLoopAsync(TaskCompletionSource first, CancellationToken stop)
    {
        var options = _options.Value;
        var policy = options.Recovery.ToRecoveryPolicy(_time);
        Log.Connecting(_logger, options);
        var endpoints = Endpoints;
        for (var attempt = 1; ; attempt++)
        {
            Volatile.Write(ref _attempts, attempt);
            try
            {
                var clientOptions = options.ToStreamSystemOptions();
                clientOptions.LoggerFactory = _loggerFactory;
                clientOptions.TimeProvider = _time;
                clientOptions.ConnectionName ??= _applicationName;
                foreach (var codec in _codecs)
                {
                    clientOptions.AddCompressionCodec(codec);
                }

                var connected = await StreamSystem.ConnectAsync(clientOptions, stop).ConfigureAwait(false);
                Volatile.Write(ref _system, connected);
                _lastError = null;
                _phase = ConnectionPhase.Connected;
                if (attempt > 1)
                {
                    Log.Connected(_logger, endpoints, attempt);
                }

                first.TrySetResult();
                return connected;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                first.TrySetResult();
                throw;
            }
            catch (Exception ex) when (IsConfigurationError(ex))
            {
                // The client's typed exception (its message names the endpoint, never the password) is what callers get.
                throw Fault(first, ex);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _lastError = ex;
                if (!policy.Enabled || attempt >= (policy.MaxAttempts ?? int.MaxValue))
                {
                    throw Fault(first, new InvalidOperationException(
                        $"RabbitStreams: the broker ({endpoints}) was not reachable after {attempt} attempt(s) (RabbitStreams:Recovery:MaxAttempts); restart to try again: {ex.Message}",
                        ex));
                }

                var delay = policy.GetDelay(attempt, Random.Shared.NextDouble());
                Log.ConnectAttemptFailed(_logger, endpoints, attempt, delay, ex.Message);
                first.TrySetResult();
                await Task.Delay(delay, _time, stop).ConfigureAwait(false);
            }
        }
    }

    private Exception Fault(TaskCompletionSource first, Exception error)
    {
        _lastError = error;
        _phase = ConnectionPhase.Faulted;
        Log.ConnectFaulted(_logger, Endpoints, error);
        first.TrySetResult();
        return error;
    }

    /// <summary>Credentials, vhost access, TLS certificates and names, an invalid URI: the same answer every time.</summary>
    private static bool IsConfigurationError(Exception ex) =>
        ex is AuthenticationFailureException or VirtualHostAccessFailureException or StreamTlsException or ArgumentException;

    /// <summary>Stops the attempts (fail-fast start); a later caller starts over.</summary>
    private async Task ResetAsync()
    {
        Task? connecting;
        CancellationTokenSource stop;
        lock (_sync)
        {
            connecting = _connecting;
            stop = _stop;
            _stop = new CancellationTokenSource();
            _connecting = null;
            _firstAttempt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _phase = ConnectionPhase.Idle;
        }

        await stop.CancelAsync().ConfigureAwait(false);
        await WaitQuietlyAsync(connecting).ConfigureAwait(false);
        stop.Dispose();
    }

    private static async Task WaitQuietlyAsync(Task? task)
    {
        if (task is null)
        {
            return;
        }

        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Stopped or faulted: reported through LastError already.
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task? connecting;
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            connecting = _connecting;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await WaitQuietlyAsync(connecting).ConfigureAwait(false);
        _stop.Dispose();
        var system = Interlocked.Exchange(ref _system, null);
        if (system is not null)
        {
            await system.DisposeAsync().ConfigureAwait(false);
        }
    }
}
