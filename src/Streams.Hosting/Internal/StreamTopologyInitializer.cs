using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Streams.Client;

namespace Streams.Hosting.Internal;

/// <summary>Creates the streams declared with AddStream / AddSuperStream before the consumers start.</summary>
internal sealed class StreamTopologyInitializer : IHostedService
{
    private readonly RabbitStreamsRegistry _registry;
    private readonly StreamSystemProvider _systems;
    private readonly ILogger _logger;

    public StreamTopologyInitializer(RabbitStreamsRegistry registry, StreamSystemProvider systems, ILoggerFactory loggerFactory)
    {
        _registry = registry;
        _systems = systems;
        _logger = loggerFactory.CreateLogger("Streams.Hosting.Topology");
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_registry.Streams.Count == 0)
        {
            return;
        }

        var system = await _systems.GetAsync(cancellationToken).ConfigureAwait(false);
        foreach (var declaration in _registry.Streams)
        {
            try
            {
                bool created = declaration switch
                {
                    { BindingKeys: { } keys } => await system.CreateSuperStreamAsync(
                        declaration.Name, keys.Select(k => $"{declaration.Name}-{k}").ToArray(), keys, declaration.Spec, cancellationToken).ConfigureAwait(false),
                    { Partitions: { } partitions } => await system.CreateSuperStreamAsync(declaration.Name, partitions, declaration.Spec, cancellationToken).ConfigureAwait(false),
                    _ => await system.CreateStreamAsync(declaration.Name, declaration.Spec, cancellationToken).ConfigureAwait(false),
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

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
