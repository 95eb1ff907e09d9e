namespace Streams.Hosting.Testing.Containers;

/// <summary>Where the host reaches a container's published ports.</summary>
internal static class DockerHost
{
    /// <summary>Testcontainers' variable for the address of the Docker host as seen from the tests.</summary>
    public const string HostOverrideVariable = "TESTCONTAINERS_HOST_OVERRIDE";

    /// <summary>
    /// The address of published ports: <see cref="HostOverrideVariable"/> when set, 127.0.0.1 for a local engine (unix
    /// socket or named pipe), else the engine's host. Unlike Testcontainers' own default, a process that itself runs in a
    /// container (<c>/.dockerenv</c>) is not sent to the bridge gateway: with a local engine the ports are on loopback,
    /// and a test in a sibling container sets <see cref="HostOverrideVariable"/>.
    /// </summary>
    public static string Resolve(Uri engine, string? hostOverride)
    {
        ArgumentNullException.ThrowIfNull(engine);
        if (!string.IsNullOrWhiteSpace(hostOverride))
        {
            return hostOverride.Trim();
        }

        return IsLocal(engine) ? "127.0.0.1" : engine.Host;
    }

    /// <summary>A unix socket or a named pipe: the engine runs on this machine.</summary>
    public static bool IsLocal(Uri engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        return engine.Scheme is "unix" or "npipe";
    }
}
