using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Streams.Hosting.Internal;

/// <summary>Runs one <see cref="ConsumerWorker"/> per registered handler for the lifetime of the host.</summary>
internal sealed class StreamConsumerDispatcher : BackgroundService, IStreamConsumerMonitor
{
    private readonly RabbitStreamsRegistry _registry;
    private readonly ConsumerWorkerServices _services;
    private readonly CancellationTokenSource _abort = new();
    private ConsumerWorker[]? _workers;

    public StreamConsumerDispatcher(RabbitStreamsRegistry registry, ConsumerWorkerServices services)
    {
        _registry = registry;
        _services = services;
    }

    public IReadOnlyList<StreamConsumerStatus> GetConsumers() =>
        Volatile.Read(ref _workers)?.Select(w => w.GetStatus()).ToArray() ?? [];

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

            // One subscription per partition, discovered at start (super streams declared with AddSuperStream exist by now).
            var system = await _services.Systems.GetAsync(cancellationToken).ConfigureAwait(false);
            IReadOnlyList<string> partitions;
            try
            {
                partitions = await system.QueryPartitionsAsync(options.Stream, cancellationToken).ConfigureAwait(false);
            }
            catch (Streams.Client.StreamProtocolException ex)
            {
                throw new InvalidOperationException($"Stream consumer '{registration}': super stream '{options.Stream}' cannot be consumed: {ex.Message}", ex);
            }

            if (partitions.Count == 0)
            {
                throw new InvalidOperationException($"Stream consumer '{registration}': super stream '{options.Stream}' has no partitions (does it exist? declare it with AddSuperStream).");
            }

            workers.AddRange(partitions.Select(p => new ConsumerWorker(registration, options, p, defaults, _services)));
        }

        Volatile.Write(ref _workers, workers.ToArray());
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
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
        return workers.Length == 0
            ? Task.CompletedTask
            : Task.WhenAll(workers.Select(w => Task.Run(() => w.RunAsync(stoppingToken, _abort.Token), CancellationToken.None)));
    }
}

/// <summary>The shared services a consumer worker needs.</summary>
internal sealed class ConsumerWorkerServices
{
    private readonly ConcurrentDictionary<string, Lazy<Task>> _deadLetterStreams = new(StringComparer.Ordinal);

    public ConsumerWorkerServices(
        IOptions<RabbitStreamsOptions> options,
        StreamSystemProvider systems,
        StreamPublisher publisher,
        MessageSerialization serialization,
        IServiceScopeFactory scopes,
        IServiceProviderIsService isService,
        HandlerScopeAnalyzer scopeAnalyzer,
        IServiceProvider root,
        TimeProvider time,
        ILoggerFactory loggerFactory,
        Telemetry.StreamsInstrumentation telemetry)
    {
        Telemetry = telemetry;
        IsService = isService;
        ScopeAnalyzer = scopeAnalyzer;
        Root = root;
        Options = options;
        Systems = systems;
        Publisher = publisher;
        Serialization = serialization;
        Scopes = scopes;
        Time = time;
        Logger = loggerFactory.CreateLogger("Streams.Hosting.Consuming");
    }

    public IOptions<RabbitStreamsOptions> Options { get; }

    public StreamSystemProvider Systems { get; }

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
            var system = await Systems.GetAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                await system.CreateStreamAsync(s, null, CancellationToken.None).ConfigureAwait(false);
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
