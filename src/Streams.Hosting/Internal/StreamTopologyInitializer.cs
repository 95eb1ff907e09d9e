using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streams.Client;
using Streams.Hosting.Internal.Backend;

namespace Streams.Hosting.Internal;

/// <summary>
/// Connects when the host starts (<see cref="RabbitStreamsOptions.StartBehavior"/>) and creates the streams declared
/// with AddStream / AddSuperStream before the consumers subscribe: during the start when the broker answers the first
/// attempt (a conflicting declaration then fails the start), else in the background once connected
/// (<see cref="WhenReadyAsync"/> is what the consumers wait for; a conflicting declaration then faults it, logged as
/// critical and reported by the health check).
/// </summary>
internal sealed class StreamTopologyInitializer : IHostedService, IDisposable
{
    private readonly RabbitStreamsRegistry _registry;
    private readonly IStreamsBackend _backend;
    private readonly IOptions<RabbitStreamsOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private Task? _background;
    private int _disposedFlag;
    private bool _disposed;

    public StreamTopologyInitializer(RabbitStreamsRegistry registry, IStreamsBackend backend, IOptions<RabbitStreamsOptions> options, TimeProvider time, ILoggerFactory loggerFactory)
    {
        _registry = registry;
        _backend = backend;
        _options = options;
        _time = time;
        _logger = loggerFactory.CreateLogger("Streams.Hosting.Topology");
    }

    /// <summary>Connected and the declared streams exist.</summary>
    public bool IsReady => _ready.Task.IsCompletedSuccessfully;

    /// <summary>Why the declared streams could not be created (the consumers do not start), if so.</summary>
    public Exception? Fault => _ready.Task.IsFaulted ? _ready.Task.Exception!.InnerException : null;

    /// <summary>Completes once connected and the declared streams exist; throws when declaring them failed for good.</summary>
    public Task WhenReadyAsync(CancellationToken cancellationToken) => _ready.Task.WaitAsync(cancellationToken);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await _backend.StartAsync(_options.Value.StartBehavior, cancellationToken).ConfigureAwait(false))
        {
            await DeclareAsync(cancellationToken).ConfigureAwait(false);
            _ready.TrySetResult();
            return;
        }

        _background = Task.Run(() => DeclareWhenConnectedAsync(_stop.Token), CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // A host may be stopped after its container was disposed (WebApplicationFactory does): nothing left to stop then.
        if (Volatile.Read(ref _disposed))
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        if (_background is { } background)
        {
            await background.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposedFlag, 1) != 0)
        {
            return;
        }

        Volatile.Write(ref _disposed, true);
        _stop.Cancel();
        _stop.Dispose();
    }

    private async Task DeclareWhenConnectedAsync(CancellationToken stop)
    {
        var policy = _options.Value.Recovery.ToRecoveryPolicy(_time);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _backend.WaitConnectedAsync(stop).ConfigureAwait(false);
                await DeclareAsync(stop).ConfigureAwait(false);
                _ready.TrySetResult();
                return;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                _ready.TrySetCanceled(stop);
                return;
            }
            catch (Exception ex) when (ex is InvalidOperationException || _backend.Phase == ConnectionPhase.Faulted)
            {
                // A declaration the broker refuses (different arguments, access refused) or a connection given up.
                if (_backend.Phase != ConnectionPhase.Faulted)
                {
                    Log.TopologyFaulted(_logger, ex);
                }

                _ready.TrySetException(ex);
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The connection dropped while declaring: try again.
                var delay = policy.GetDelay(attempt, Random.Shared.NextDouble());
                Log.TopologyRetrying(_logger, attempt, delay, ex);
                try
                {
                    await Task.Delay(delay, _time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    _ready.TrySetCanceled(stop);
                    return;
                }
            }
        }
    }

    private async Task DeclareAsync(CancellationToken cancellationToken)
    {
        foreach (var declaration in _registry.Streams)
        {
            try
            {
                bool created = declaration switch
                {
                    { BindingKeys: { } keys } => await _backend.CreateSuperStreamAsync(
                        declaration.Name, keys.Select(k => $"{declaration.Name}-{k}").ToArray(), keys, declaration.Spec, cancellationToken).ConfigureAwait(false),
                    { Partitions: { } partitions } => await _backend.CreateSuperStreamAsync(declaration.Name, partitions, declaration.Spec, cancellationToken).ConfigureAwait(false),
                    _ => await _backend.CreateStreamAsync(declaration.Name, declaration.Spec, cancellationToken).ConfigureAwait(false),
                };
                Log.StreamDeclared(_logger, declaration.Name, created ? "created" : "already exists");
            }
            catch (StreamAlreadyExistsWithDifferentArgumentsException ex)
            {
                throw new InvalidOperationException(
                    $"RabbitStreams: stream '{declaration.Name}' declared with {(declaration.Partitions is null ? "AddStream" : "AddSuperStream")}({declaration.Spec}) " +
                    $"already exists with different arguments. {ex.Message}", ex);
            }
            catch (StreamProtocolException ex)
            {
                throw new InvalidOperationException($"RabbitStreams: declaring stream '{declaration.Name}' failed: {ex.Message}", ex);
            }
        }
    }
}
