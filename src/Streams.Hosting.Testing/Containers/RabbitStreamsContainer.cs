using System.Globalization;
using System.Text;
using Docker.DotNet.Models;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using Streams.Client;
using Testcontainers.RabbitMq;

namespace Streams.Hosting.Testing.Containers;

/// <summary>
/// A RabbitMQ 4.x broker with the stream plugin, in a Docker container (Testcontainers), for integration tests.
/// Its stream port 5552 is published on a random host port, and the broker advertises that host port (and the Docker
/// host's address) in its Metadata, so producers and consumers located through Metadata reach it too:
/// <see cref="ConnectionString"/>, <see cref="CreateStreamSystemOptions"/> and <see cref="ConfigureRabbitStreams"/> work
/// with no address resolver. <see cref="StartAsync"/> returns once the broker answers a stream-protocol handshake.
/// </summary>
/// <remarks>
/// The image comes from <see cref="RabbitStreamsContainerOptions.Image"/> (default: <c>STREAMS_RABBITMQ_IMAGE</c>, else
/// <c>rabbitmq:4-management</c>). With a local engine (unix socket, named pipe) the ports are published on 127.0.0.1
/// only. Engines older than Docker API 1.44 (e.g. Debian's docker.io 20.10 = API 1.41) need
/// <c>DOCKER_API_VERSION</c> set to their version; without a registry, set <c>TESTCONTAINERS_RYUK_DISABLED=true</c>
/// (the resource reaper's image cannot be pulled) and name a local image.
/// </remarks>
public sealed class RabbitStreamsContainer : IAsyncDisposable
{
    /// <summary>The broker's stream port inside the container.</summary>
    public const int StreamPort = 5552;

    /// <summary>The broker's AMQP 0-9-1 port inside the container.</summary>
    public const int AmqpPort = 5672;

    /// <summary>The broker's management (HTTP API) port inside the container.</summary>
    public const int ManagementPort = 15672;

    private readonly RabbitStreamsContainerOptions _options;
    private RabbitMqContainer? _container;
    private string? _host;
    private bool _disposed;

    /// <summary>Prepares a broker with the default options (nothing runs until <see cref="StartAsync"/>).</summary>
    public RabbitStreamsContainer()
        : this(new RabbitStreamsContainerOptions())
    {
    }

    /// <summary>Prepares a broker (nothing runs until <see cref="StartAsync"/>).</summary>
    /// <param name="options">Image, credentials and start timeout; validated here.</param>
    public RabbitStreamsContainer(RabbitStreamsContainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }

    /// <summary>The image the container runs.</summary>
    public string Image => _options.Image;

    /// <summary>The user name of the broker's user.</summary>
    public string UserName => _options.UserName;

    /// <summary>The password of the broker's user.</summary>
    public string Password => _options.Password;

    /// <summary>The address of the published ports (127.0.0.1 with a local engine; <c>TESTCONTAINERS_HOST_OVERRIDE</c> when set).</summary>
    public string Host => _host ?? throw NotStarted();

    /// <summary>The host port the stream port 5552 is published on.</summary>
    public int MappedStreamPort => Started.GetMappedPublicPort(StreamPort);

    /// <summary>The host port the AMQP port 5672 is published on.</summary>
    public int MappedAmqpPort => Started.GetMappedPublicPort(AmqpPort);

    /// <summary>The host port the management port 15672 is published on.</summary>
    public int MappedManagementPort => Started.GetMappedPublicPort(ManagementPort);

    /// <summary>The Docker container id.</summary>
    public string ContainerId => Started.Id;

    /// <summary><c>rabbitmq-stream://user:pass@host:mappedPort/%2f</c>, for <c>RabbitStreams:ConnectionString</c> or <see cref="StreamSystemOptions.FromUri"/>.</summary>
    public string ConnectionString => string.Create(CultureInfo.InvariantCulture,
        $"{StreamSystemOptions.UriScheme}://{Uri.EscapeDataString(UserName)}:{Uri.EscapeDataString(Password)}@{Host}:{MappedStreamPort}/%2f");

    /// <summary><c>amqp://user:pass@host:mappedPort/</c> (AMQP 0-9-1).</summary>
    public string AmqpConnectionString => string.Create(CultureInfo.InvariantCulture,
        $"amqp://{Uri.EscapeDataString(UserName)}:{Uri.EscapeDataString(Password)}@{Host}:{MappedAmqpPort}/");

    /// <summary>The management HTTP API's base address (basic authentication with <see cref="UserName"/> and <see cref="Password"/>).</summary>
    public Uri ManagementUri => new(string.Create(CultureInfo.InvariantCulture, $"http://{Host}:{MappedManagementPort}/"));

    private RabbitMqContainer Started => _container ?? throw NotStarted();

    /// <summary>Creates and starts a broker.</summary>
    /// <param name="options">Image, credentials and start timeout (default options when <see langword="null"/>).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <exception cref="RabbitStreamsContainerException">No Docker engine, no image, or no handshake in time.</exception>
    public static async Task<RabbitStreamsContainer> StartNewAsync(RabbitStreamsContainerOptions? options = null, CancellationToken cancellationToken = default)
    {
        var container = new RabbitStreamsContainer(options ?? new RabbitStreamsContainerOptions());
        try
        {
            await container.StartAsync(cancellationToken).ConfigureAwait(false);
            return container;
        }
        catch
        {
            await container.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Creates the container, writes the broker's configuration with the mapped stream port, starts the broker and
    /// waits until it answers a stream-protocol handshake (at most <see cref="RabbitStreamsContainerOptions.StartTimeout"/>).
    /// </summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <exception cref="RabbitStreamsContainerException">No Docker engine, no image, or no handshake in time; the message says how to get a broker.</exception>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_container is not null)
        {
            throw new InvalidOperationException("The container is already started.");
        }

        var engine = TestcontainersSettings.OS.DockerEndpointAuthConfig?.Endpoint
            ?? throw new RabbitStreamsContainerException("No Docker engine was found. " + DockerGuidance.HowToGetABroker);
        var host = DockerHost.Resolve(engine, Environment.GetEnvironmentVariable(DockerHost.HostOverrideVariable));
        var handshake = new StreamHandshakeWait(() => OptionsFor(host, _container!.GetMappedPublicPort(StreamPort)));
        RabbitMqContainer container;
        try
        {
            container = CreateBuilder(engine, host, handshake).Build();
        }
        catch (DockerUnavailableException ex)
        {
            throw new RabbitStreamsContainerException($"No Docker engine answers ({engine}): {ex.Message} " + DockerGuidance.HowToGetABroker, ex);
        }

        _container = container;
        _host = host;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.StartTimeout);
        try
        {
            await container.StartAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var logs = await TailLogsAsync(container).ConfigureAwait(false);
            _container = null;
            _host = null;
            await container.DisposeAsync().ConfigureAwait(false);
            var reason = ex is OperationCanceledException or TimeoutException
                ? $"the broker did not answer a stream-protocol handshake within {_options.StartTimeout.TotalSeconds:0} s" +
                  (handshake.LastFailure is { } last ? $" (last attempt: {last.Message})" : string.Empty)
                : ex.Message;
            throw new RabbitStreamsContainerException(
                $"Could not start RabbitMQ from image '{_options.Image}' on the Docker engine {engine}: {reason}. " +
                DockerGuidance.HowToGetABroker + logs, ex);
        }
        catch
        {
            _container = null;
            _host = null;
            await container.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Client options for the broker: its mapped endpoint and user. Each call returns new options.</summary>
    public StreamSystemOptions CreateStreamSystemOptions() => OptionsFor(Host, MappedStreamPort);

    /// <summary>Points hosting options at the broker (sets <see cref="RabbitStreamsOptions.ConnectionString"/>, clears endpoints and credentials that would override it).</summary>
    /// <param name="options">The options, e.g. in <c>services.Configure&lt;RabbitStreamsOptions&gt;(container.ConfigureRabbitStreams)</c>.</param>
    public void ConfigureRabbitStreams(RabbitStreamsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Endpoints.Clear();
        options.UserName = null;
        options.Password = null;
        options.VirtualHost = null;
        options.ConnectionString = ConnectionString;
    }

    /// <summary>
    /// Configuration entries that point <c>AddRabbitStreams(configuration)</c> at the broker, for
    /// <c>AddInMemoryCollection</c>: <c>{section}:ConnectionString</c>.
    /// </summary>
    /// <param name="section">The section the options are bound from (default <see cref="RabbitStreamsOptions.SectionName"/>).</param>
    public IReadOnlyDictionary<string, string?> ToConfiguration(string section = RabbitStreamsOptions.SectionName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(section);
        return new Dictionary<string, string?> { [section + ":ConnectionString"] = ConnectionString };
    }

    /// <summary>The container's standard output and error so far (the broker logs to the console).</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    public async Task<string> GetLogsAsync(CancellationToken cancellationToken = default)
    {
        var (stdout, stderr) = await Started.GetLogsAsync(ct: cancellationToken).ConfigureAwait(false);
        return stdout + stderr;
    }

    /// <summary>Stops and removes the container.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_container is { } container)
        {
            _container = null;
            await container.DisposeAsync().ConfigureAwait(false);
        }
    }

    private RabbitMqBuilder CreateBuilder(Uri engine, string host, StreamHandshakeWait handshake)
    {
        var builder = new RabbitMqBuilder(_options.Image)
            .WithUsername(_options.UserName)
            .WithPassword(_options.Password)
            .WithPortBinding(StreamPort, true)
            .WithPortBinding(ManagementPort, true)
            .WithEnvironment(BrokerFiles.Environment)
            .WithCommand([.. BrokerFiles.StartCommand])
            .WithLabel("org.streams-hosting.testing", "rabbitmq")
            // Also creates BrokerFiles.Directory before the container starts.
            .WithResourceMapping(Encoding.UTF8.GetBytes(BrokerFiles.EnabledPlugins), BrokerFiles.PluginsFile)
            .WithStartupCallback((started, ct) => ConfigureBrokerAsync(started, host, ct))
            .WithWaitStrategy(Wait.ForUnixContainer().AddCustomWaitStrategy(handshake, wait => wait.WithTimeout(_options.StartTimeout).WithInterval(TimeSpan.FromMilliseconds(250))));
        if (DockerHost.IsLocal(engine) && host == "127.0.0.1")
        {
            builder = builder.WithCreateParameterModifier(BindToLoopback);
        }

        return builder;
    }

    /// <summary>Runs once the container runs and its ports are mapped: the configuration with the mapped port, then the start marker.</summary>
    private async Task ConfigureBrokerAsync(RabbitMqContainer started, string host, CancellationToken cancellationToken)
    {
        var config = BrokerFiles.Config(_options.UserName, _options.Password, host, started.GetMappedPublicPort(StreamPort));
        await started.CopyAsync(Encoding.UTF8.GetBytes(config), BrokerFiles.ConfigFile, ct: cancellationToken).ConfigureAwait(false);
        await started.CopyAsync([], BrokerFiles.StartMarker, ct: cancellationToken).ConfigureAwait(false);
    }

    private static void BindToLoopback(CreateContainerParameters parameters)
    {
        if (parameters.HostConfig?.PortBindings is not { } portBindings)
        {
            return;
        }

        foreach (var binding in portBindings.Values.SelectMany(bindings => bindings))
        {
            binding.HostIP = "127.0.0.1";
        }
    }

    private StreamSystemOptions OptionsFor(string host, int port)
    {
        var options = new StreamSystemOptions { UserName = _options.UserName, Password = _options.Password };
        options.Endpoints.Add(new StreamEndpoint(host, port));
        return options;
    }

    private static async Task<string> TailLogsAsync(RabbitMqContainer container)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var (stdout, stderr) = await container.GetLogsAsync(ct: timeout.Token).ConfigureAwait(false);
            var lines = (stdout + stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return lines.Length == 0 ? " (the container logged nothing)" : "\nLast container output:\n" + string.Join('\n', lines.TakeLast(30));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return $" (its logs could not be read: {ex.Message})";
        }
    }

    private static InvalidOperationException NotStarted() => new("The container is not started: call StartAsync first.");
}
