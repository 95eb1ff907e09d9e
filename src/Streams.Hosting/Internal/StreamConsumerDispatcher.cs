using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streams.Hosting.Internal.Backend;
using Streams.Hosting.Internal.Pipeline;

namespace Streams.Hosting.Internal;

/// <summary>Runs one <see cref="ConsumerWorker"/> per registered handler for the lifetime of the host.</summary>
internal sealed class StreamConsumerDispatcher : BackgroundService, IStreamConsumerMonitor
{
    private readonly RabbitStreamsRegistry _registry;
    private readonly ConsumerWorkerServices _services;
    private readonly CancellationTokenSource _abort = new();
    private readonly List<(ConsumerRegistration Registration, StreamConsumerOptions Options)> _pending = [];
    private ConsumerWorker[]? _workers;
    private StreamConsumerStatus[] _failed = [];

    public StreamConsumerDispatcher(RabbitStreamsRegistry registry, ConsumerWorkerServices services)
    {
        _registry = registry;
        _services = services;
    }

    public IReadOnlyList<StreamConsumerStatus> GetConsumers() =>
        [.. (Volatile.Read(ref _workers) ?? []).Select(w => w.GetStatus()), .. Volatile.Read(ref _failed)];

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var defaults = _services.Options.Value.Consumers;
        var workers = new List<ConsumerWorker>();
        foreach (var registration in _registry.Consumers)
        {
            var options = registration.BuildOptions(_services.Root.GetService<Microsoft.Extensions.Configuration.IConfiguration>(), defaults);
            if (!options.SuperStream)
            {
                workers.Add(new ConsumerWorker(registration, options, null, defaults, _services));
                continue;
            }

            if (!_services.Topology.IsReady || (options.WaitForStream ?? defaults.WaitForStream))
            {
                // Not connected yet (the host started with the broker down), or waiting for the super stream to be
                // created: its partitions are discovered in the background.
                _pending.Add((registration, options));
                continue;
            }

            // One subscription per partition, discovered at start (super streams declared with AddSuperStream exist by now).
            await _services.Topology.WhenReadyAsync(cancellationToken).ConfigureAwait(false);
            workers.AddRange((await DiscoverPartitionsAsync(_services.Backend, registration, options, cancellationToken).ConfigureAwait(false))
                .Select(p => new ConsumerWorker(registration, options, p, defaults, _services)));
        }

        Volatile.Write(ref _workers, workers.ToArray());
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<IReadOnlyList<string>> DiscoverPartitionsAsync(
        IStreamsBackend backend, ConsumerRegistration registration, StreamConsumerOptions options, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> partitions;
        try
        {
            partitions = await backend.QueryPartitionsAsync(options.Stream, cancellationToken).ConfigureAwait(false);
        }
        catch (Streams.Client.StreamProtocolException ex)
        {
            throw new InvalidOperationException($"Stream consumer '{registration}': super stream '{options.Stream}' cannot be consumed: {ex.Message}", ex);
        }

        return partitions.Count > 0
            ? partitions
            : throw new Streams.Client.StreamDoesNotExistException(options.Stream,
                $"Stream consumer '{registration}': super stream '{options.Stream}' has no partitions: it does not exist. Declare it with AddSuperStream(\"{options.Stream}\", partitions) " +
                "or create it on the broker, or set WaitForStream to wait for it.");
    }

    /// <summary>
    /// The super stream consumers whose partitions could not be discovered at start: once connected (and, with
    /// WaitForStream, once the super stream exists), one worker per partition; a failure is reported as a faulted consumer.
    /// </summary>
    private async Task RunPendingAsync(ConsumerRegistration registration, StreamConsumerOptions options, CancellationToken stopping)
    {
        var defaults = _services.Options.Value.Consumers;
        var wait = options.WaitForStream ?? defaults.WaitForStream;
        var policy = _services.Options.Value.Recovery.ToRecoveryPolicy(_services.Time);
        IReadOnlyList<string> partitions;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _services.Topology.WhenReadyAsync(stopping).ConfigureAwait(false);
                partitions = await DiscoverPartitionsAsync(_services.Backend, registration, options, stopping).ConfigureAwait(false);
                break;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Streams.Client.StreamDoesNotExistException) when (wait)
            {
                var delay = policy.GetDelay(attempt, Random.Shared.NextDouble());
                Log.WaitingForStream(_services.Logger, registration.HandlerType.Name, options.Stream, delay);
                ReportPending(registration, options, StreamConsumerState.WaitingForStream, null);
                try
                {
                    await Task.Delay(delay, _services.Time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                if (_services.Topology.Fault is null && _services.Backend.Phase != ConnectionPhase.Faulted)
                {
                    Log.ConsumerFaulted(_services.Logger, registration.HandlerType.Name, options.Stream, ex);
                }

                ReportPending(registration, options, StreamConsumerState.Faulted, ex);
                return;
            }
        }

        var defaultsNow = _services.Options.Value.Consumers;
        var started = partitions.Select(p => new ConsumerWorker(registration, options, p, defaultsNow, _services)).ToArray();
        lock (_pending)
        {
            Volatile.Write(ref _workers, [.. Volatile.Read(ref _workers) ?? [], .. started]);
            Volatile.Write(ref _failed, [.. Volatile.Read(ref _failed).Where(f => f.Stream != options.Stream || f.HandlerType != registration.HandlerType)]);
        }

        await Task.WhenAll(started.Select(w => Task.Run(() => w.RunAsync(stopping, _abort.Token), CancellationToken.None))).ConfigureAwait(false);
    }

    /// <summary>A super stream consumer without workers yet (waiting for its super stream, or failed), as the monitor shows it.</summary>
    private void ReportPending(ConsumerRegistration registration, StreamConsumerOptions options, StreamConsumerState state, Exception? error)
    {
        var status = new StreamConsumerStatus(registration.HandlerType, options.Stream, null, options.Name, state, null, null, 0, 0, error);
        lock (_pending)
        {
            Volatile.Write(ref _failed, [.. Volatile.Read(ref _failed).Where(f => f.Stream != options.Stream || f.HandlerType != registration.HandlerType), status]);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Graceful: the stopping token stops taking messages, in-flight handlers finish and offsets are stored.
        // When the host's shutdown timeout elapses, handlers see their cancellation token signalled.
        using var registration = cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), _abort);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (ExecuteTask is { IsCompleted: false } running)
        {
            // The shutdown timeout elapsed: handlers were cancelled; give the workers a moment to store their offsets.
            try
            {
                await running.WaitAsync(_services.Options.Value.RequestTimeout, _services.Time, CancellationToken.None).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Nothing more can be done before the container is disposed.
            }
        }
    }

    public override void Dispose()
    {
        _abort.Dispose();
        foreach (var worker in Volatile.Read(ref _workers) ?? [])
        {
            worker.Dispose();
        }

        base.Dispose();
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var workers = Volatile.Read(ref _workers) ?? [];
        var runs = workers.Select(w => Task.Run(() => w.RunAsync(stoppingToken, _abort.Token), CancellationToken.None))
            .Concat(_pending.Select(p => Task.Run(() => RunPendingAsync(p.Registration, p.Options, stoppingToken), CancellationToken.None)))
            .ToArray();
        return runs.Length == 0 ? Task.CompletedTask : Task.WhenAll(runs);
    }
}

/// <summary>The shared services a consumer worker needs.</summary>
internal sealed class ConsumerWorkerServices
{
    private readonly ConcurrentDictionary<string, Lazy<Task>> _deadLetterStreams = new(StringComparer.Ordinal);

    public ConsumerWorkerServices(
        IOptions<RabbitStreamsOptions> options,
        IStreamsBackend backend,
        StreamTopologyInitializer topology,
        StreamPublisher publisher,
        MessageSerialization serialization,
        IServiceScopeFactory scopes,
        IServiceProviderIsService isService,
        HandlerScopeAnalyzer scopeAnalyzer,
        IServiceProvider root,
        TimeProvider time,
        ILoggerFactory loggerFactory,
        Telemetry.StreamsInstrumentation telemetry,
        RabbitStreamsRegistry registry,
        Control.StreamConsumerControl control,
        IConsumeObserver? observer = null)
    {
        Control = control;
        ConsumeFilters = registry.ConsumeFilters;
        Observer = observer;
        Telemetry = telemetry;
        IsService = isService;
        ScopeAnalyzer = scopeAnalyzer;
        Root = root;
        Options = options;
        Backend = backend;
        Topology = topology;
        Publisher = publisher;
        Serialization = serialization;
        Scopes = scopes;
        Time = time;
        Logger = loggerFactory.CreateLogger("Streams.Hosting.Consuming");
    }

    public IOptions<RabbitStreamsOptions> Options { get; }

    /// <summary>Where the workers' controllers are found by consumer name (<see cref="IStreamConsumerControl"/>).</summary>
    public Control.StreamConsumerControl Control { get; }

    /// <summary>The broker: the client's, or the test harness's in-memory one.</summary>
    public IStreamsBackend Backend { get; }

    /// <summary>The consume filters of all consumers, in order.</summary>
    public IReadOnlyList<Type> ConsumeFilters { get; }

    /// <summary>Sees what the pipeline does (the test harness); null in production.</summary>
    public IConsumeObserver? Observer { get; }

    /// <summary>Connected and the declared streams created: what a consumer waits for before it subscribes.</summary>
    public StreamTopologyInitializer Topology { get; }

    public StreamPublisher Publisher { get; }

    public MessageSerialization Serialization { get; }

    public IServiceScopeFactory Scopes { get; }

    public IServiceProviderIsService IsService { get; }

    public HandlerScopeAnalyzer ScopeAnalyzer { get; }

    /// <summary>The root provider: activates handlers that need no scope.</summary>
    public IServiceProvider Root { get; }

    public TimeProvider Time { get; }

    public Telemetry.StreamsInstrumentation Telemetry { get; }

    public ILogger Logger { get; }

    /// <summary>Creates a dead-letter stream once per process (exists-ok); a failure is retried on the next dead letter.</summary>
    public async Task EnsureDeadLetterStreamAsync(string stream, CancellationToken cancellationToken)
    {
        var lazy = _deadLetterStreams.GetOrAdd(stream, s => new Lazy<Task>(async () =>
        {
            try
            {
                await Backend.CreateStreamAsync(s, null, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Streams.Client.StreamAlreadyExistsWithDifferentArgumentsException)
            {
                // Created beforehand with its own retention: use it as it is.
            }
        }));
        try
        {
            await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            _deadLetterStreams.TryRemove(new KeyValuePair<string, Lazy<Task>>(stream, lazy));
            throw;
        }
    }
}
