using System.Globalization;
using System.Text;

namespace Streams.Hosting.Testing.Containers;

/// <summary>
/// The files and the start command that turn any RabbitMQ 4.x image into a stream broker reachable through Docker's
/// mapped ports: the official image (entrypoint, plugins file, conf.d) and a bare broker root alike.
/// </summary>
/// <remarks>
/// The broker advertises the host and port clients must dial in its Metadata and Open responses
/// (<c>stream.advertised_host</c>/<c>advertised_port</c>). Inside a container those would be the container's name and
/// 5552, which the host cannot reach; the mapped port is only known once the container runs. So the container starts
/// a shell that waits for <see cref="StartMarker"/>, the configuration (with the mapped port) is copied in after the
/// start, then the marker, and only then does <c>rabbitmq-server</c> start. Every client — a connection string, the CLI,
/// another language — then gets reachable addresses without an address resolver.
/// </remarks>
internal static class BrokerFiles
{
    public const string Directory = "/etc/streams-hosting";
    public const string PluginsFile = Directory + "/enabled_plugins";
    public const string ConfigFile = Directory + "/rabbitmq.conf";
    public const string StartMarker = Directory + "/start";

    /// <summary>The plugins the broker starts with (the stream plugin, its management extension and the management API).</summary>
    public const string EnabledPlugins = "[rabbitmq_management,rabbitmq_stream,rabbitmq_stream_management].\n";

    /// <summary>The container's command: waits for the configuration, then starts the broker (through the official entrypoint when there is one).</summary>
    public static IReadOnlyList<string> StartCommand { get; } =
    [
        "sh", "-c",
        $"while [ ! -f {StartMarker} ]; do sleep 0.1; done; " +
        "if command -v docker-entrypoint.sh >/dev/null 2>&1; then exec docker-entrypoint.sh rabbitmq-server; fi; " +
        "exec rabbitmq-server",
    ];

    /// <summary>The environment that points the broker at <see cref="PluginsFile"/> and <see cref="ConfigFile"/>.</summary>
    public static IReadOnlyDictionary<string, string> Environment { get; } = new Dictionary<string, string>
    {
        ["RABBITMQ_ENABLED_PLUGINS_FILE"] = PluginsFile,
        ["RABBITMQ_CONFIG_FILE"] = ConfigFile,
    };

    /// <summary>rabbitmq.conf: the user, no loopback-only users (clients come through Docker's proxy), the advertised address, console logs.</summary>
    public static string Config(string userName, string password, string advertisedHost, int advertisedPort)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userName);
        ArgumentException.ThrowIfNullOrWhiteSpace(password);
        ArgumentException.ThrowIfNullOrWhiteSpace(advertisedHost);
        ArgumentOutOfRangeException.ThrowIfLessThan(advertisedPort, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(advertisedPort, 65535);
        var text = new StringBuilder();
        text.Append("default_user = ").Append(userName).Append('\n');
        text.Append("default_pass = ").Append(password).Append('\n');
        text.Append("loopback_users = none\n");
        text.Append("stream.advertised_host = ").Append(advertisedHost).Append('\n');
        text.Append("stream.advertised_port = ").Append(advertisedPort.ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append("log.console = true\n");
        text.Append("log.console.level = info\n");
        return text.ToString();
    }
}
