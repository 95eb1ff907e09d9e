using System.Globalization;
using Streams.Client;

namespace Streams.Hosting.Perf;

/// <summary>A command line that cannot be run: printed with the usage, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>The scenario and its options: <c>&lt;scenario&gt; [--messages N] [--rounds R] [--warm-up W] [--uri URI] [--modes a,b]</c>.</summary>
internal sealed record PerfSettings(string Scenario, int Messages, int Rounds, string Uri, IReadOnlyList<string> Modes, int WarmUps = 2, int WorkMicroseconds = 0, bool Batch = false, string? Only = null, int StartUps = 40, bool Properties = false)
{
    /// <summary>The work each handler (and the raw loop) does per message besides counting (<c>--work-us</c>).</summary>
    public TimeSpan HandlerWork => TimeSpan.FromMicroseconds(WorkMicroseconds);

    public const string DefaultUri = "rabbitmq-stream://guest:guest@localhost:5552/%2f";

    public static readonly IReadOnlyList<string> Scenarios = ["consume", "publish", "telemetry", "connections", "all"];

    public static readonly IReadOnlyList<string> TelemetryModes = ["none", "listeners", "otel", "otel-metrics", "otel-sampled", "otel-head-sampled", "otel-traces-head-sampled"];

    public const string Usage = """
        usage: dotnet run -c Release --project benchmarks/Streams.Hosting.Perf -- <scenario> [options]

        scenarios:
          consume     raw Consumer (ReadAllAsync + DecodeMessage) vs a hosted IStreamHandler<byte[]>   target >= 85%
          publish     64 concurrent callers: raw Producer.SendAsync vs IStreamPublisher.PublishAsync     target >= 80%
          telemetry   hosted consume with no listener, raw listeners and the OpenTelemetry SDK
          connections 500 consumers + 100 producers in one StreamSystem: creation time and the connections
                      the management API (port 15672 of the --uri host) lists, 1 per connection vs shared
          all         consume, publish and telemetry, in that order

        options:
          --messages N   messages in the consumed stream; publish sends N/5 per side per round  (default 1000000)
          --rounds R     rounds; each round runs every side or mode once, interleaved          (default 3)
          --warm-up W    unmeasured runs per side or mode before the rounds: consume and telemetry read the
                         whole stream (a new host per run: its code reaches the JIT's optimized
                         tier after a few); publish always warms up once with a tenth      (default 2)
          --start-ups S  consume and telemetry: short unmeasured runs per side or mode (a consumer or a host
                         started, 1,000 messages read, stopped) so that the start-up code, which runs
                         again before every measured run, is fully compiled beforehand; without them
                         the JIT compiles it in the background during the measured runs    (default 40)
          --work-us U    CPU work per message in the handler and the raw loop, in µs (a spin standing
                         for the application's own work; 0 = a handler that only counts)    (default 0)
          --batch true   the hosted handler is an IStreamBatchHandler<byte[]> (consume, telemetry)   (default false)
          --properties true  consume, telemetry: every message also carries a content type, as
                         IStreamPublisher writes byte[] bodies (so both sides decode a properties
                         section; default: a body alone, as new Message(bytes) writes)     (default false)
          --only SIDE    consume: run only the raw or the hosted side (for a profiler; no ratio)   (default both)
          --uri URI      broker                                 (default rabbitmq-stream://guest:guest@localhost:5552/%2f)
          --modes a,b    telemetry modes: none, listeners, otel, otel-metrics, otel-sampled,
                         otel-head-sampled, otel-traces-head-sampled                             (default all seven)
        """;

    public static PerfSettings Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0)
        {
            throw new UsageException("a scenario is required");
        }

        var scenario = args[0];
        if (!Scenarios.Contains(scenario))
        {
            throw new UsageException($"unknown scenario '{scenario}' (known: {string.Join(", ", Scenarios)})");
        }

        var settings = new PerfSettings(scenario, 1_000_000, 3, DefaultUri, TelemetryModes);
        for (var i = 1; i < args.Count; i++)
        {
            var name = args[i];
            var value = i + 1 < args.Count ? args[++i] : throw new UsageException($"option {name} needs a value");
            settings = name switch
            {
                "--messages" => settings with { Messages = Number(name, value, min: 1_000) },
                "--rounds" => settings with { Rounds = Number(name, value, min: 1) },
                "--warm-up" => settings with { WarmUps = Number(name, value, min: 0) },
                "--start-ups" => settings with { StartUps = Number(name, value, min: 0) },
                "--work-us" => settings with { WorkMicroseconds = Number(name, value, min: 0) },
                "--batch" => settings with { Batch = bool.TryParse(value, out var batch) ? batch : throw new UsageException($"--batch must be true or false (was '{value}')") },
                "--properties" => settings with { Properties = bool.TryParse(value, out var properties) ? properties : throw new UsageException($"--properties must be true or false (was '{value}')") },
                "--only" => settings with { Only = value is "raw" or "hosted" ? value : throw new UsageException($"--only must be raw or hosted (was '{value}')") },
                "--uri" => settings with { Uri = CheckUri(value) },
                "--modes" => settings with { Modes = ParseModes(value) },
                _ => throw new UsageException($"unknown option {name} (known: --messages, --rounds, --warm-up, --start-ups, --work-us, --batch, --properties, --only, --uri, --modes)"),
            };
        }

        return settings;
    }

    private static int Number(string name, string value, int min)
    {
        if (!int.TryParse(value.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) || number < min)
        {
            throw new UsageException($"{name} must be a whole number >= {min} (was '{value}')");
        }

        return number;
    }

    private static string CheckUri(string uri)
    {
        try
        {
            _ = StreamSystemOptions.FromUri(uri);
            return uri;
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"--uri is not a rabbitmq-stream URI: {ex.Message}");
        }
    }

    private static string[] ParseModes(string value)
    {
        var modes = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToArray();
        var unknown = modes.Where(m => !TelemetryModes.Contains(m)).ToArray();
        if (modes.Length == 0 || unknown.Length > 0)
        {
            throw new UsageException($"--modes: unknown '{string.Join(",", unknown)}' (known: {string.Join(", ", TelemetryModes)})");
        }

        return modes;
    }
}
