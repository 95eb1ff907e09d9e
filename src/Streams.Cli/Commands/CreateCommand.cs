using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Streams.Cli.Cli;
using Streams.Client;

namespace Streams.Cli.Commands;

/// <summary><c>streams create</c>: a stream, or a super stream and its partitions, with retention and placement arguments.</summary>
internal static class CreateCommand
{
    public const int DefaultPartitions = 3;

    public static Command Create(CliEnvironment env, Option<string> uri)
    {
        var target = new StreamTarget("create");
        var partitions = CliOptions.OptionalInt64("--partitions", $"Super streams: partitions {{name}}-0..N-1 bound with keys 0..N-1 [default: {DefaultPartitions}].", min: 1, max: 1000);
        var bindingKeys = new Option<string[]>("--binding-keys")
        {
            Description = "Super streams: one partition {name}-{key} per binding key, comma-separated (a,b,c), for key routing.",
            HelpName = "KEY,KEY",
            CustomParser = result => [.. result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.TrimEntries))],
        };
        bindingKeys.Validators.Add(result =>
        {
            var keys = result.GetValueOrDefault<string[]>() ?? [];
            if (keys.Length == 0 || keys.Any(k => k.Length == 0) || keys.Distinct(StringComparer.Ordinal).Count() != keys.Length)
            {
                result.AddError("option --binding-keys: give distinct, non-empty keys separated by commas");
            }
        });
        var maxAge = new Option<TimeSpan?>("--max-age")
        {
            Description = "Retention by age: 90s, 30m, 12h, 7d or a TimeSpan (d.hh:mm:ss); whole seconds.",
            HelpName = "AGE",
            CustomParser = ParseAge,
        };
        var maxLength = CliOptions.OptionalInt64("--max-length-bytes", "Retention by size in bytes (whole segments are removed).", min: 1);
        var segment = CliOptions.OptionalInt64("--max-segment-size-bytes", "Segment file size in bytes.", min: 1, max: StreamSpec.MaxSegmentSizeLimit);
        var filterSize = CliOptions.OptionalInt64("--filter-size-bytes", "Size of each chunk's Bloom filter for stream filtering.", min: 16, max: 255);
        var leaderLocator = new Option<string?>("--leader-locator") { Description = "Leader placement.", HelpName = "client-local|balanced" };
        leaderLocator.AcceptOnlyFromAmong("client-local", "balanced");
        var clusterSize = CliOptions.OptionalInt64("--initial-cluster-size", "Replicas (leader included) at creation.", min: 1, max: 255);

        var command = new Command("create", "Create a stream, or a super stream and its partitions. An existing one with the same arguments is left as it is (exit 0); with other arguments the broker refuses (exit 1).");
        target.AddTo(command);
        foreach (Option option in (Option[])[partitions, bindingKeys, maxAge, maxLength, segment, filterSize, leaderLocator, clusterSize])
        {
            command.Options.Add(option);
        }

        command.Validators.Add(result =>
        {
            var super = result.Valid(target.SuperStream) is not null;
            if (!super && (result.IsGiven(partitions) || result.IsGiven(bindingKeys)))
            {
                result.AddError("options --partitions and --binding-keys apply to --super-stream only");
            }

            if (result.IsGiven(partitions) && result.IsGiven(bindingKeys))
            {
                result.AddError("options --partitions and --binding-keys exclude each other");
            }
        });

        command.SetAction(async (parse, ct) =>
        {
            var (name, isSuper) = target.Get(parse);
            var spec = new StreamSpec
            {
                MaxAge = parse.GetValue(maxAge),
                MaxLengthBytes = parse.GetValue(maxLength),
                MaxSegmentSizeBytes = parse.GetValue(segment),
                FilterSizeBytes = (int?)parse.GetValue(filterSize),
                InitialClusterSize = (int?)parse.GetValue(clusterSize),
                LeaderLocator = parse.GetValue(leaderLocator) switch
                {
                    "client-local" => LeaderLocator.ClientLocal,
                    "balanced" => LeaderLocator.Balanced,
                    _ => null,
                },
            };
            await using var system = await Connection.ConnectAsync(parse.GetValue(uri)!, ct).ConfigureAwait(false);
            if (!isSuper)
            {
                var created = await system.CreateStreamAsync(name, spec, ct).ConfigureAwait(false);
                await env.Output.WriteLineAsync(created ? $"created stream {name} ({spec})" : $"stream {name} already exists ({spec})").ConfigureAwait(false);
                return ExitCodes.Success;
            }

            var keys = parse.GetValue(bindingKeys);
            bool createdSuper;
            if (keys is { Length: > 0 })
            {
                var names = keys.Select(k => $"{name}-{k}").ToArray();
                createdSuper = await system.CreateSuperStreamAsync(name, names, keys, spec, ct).ConfigureAwait(false);
            }
            else
            {
                createdSuper = await system.CreateSuperStreamAsync(name, (int)(parse.GetValue(partitions) ?? DefaultPartitions), spec, ct).ConfigureAwait(false);
            }

            var partitionNames = await system.QueryPartitionsAsync(name, ct).ConfigureAwait(false);
            await env.Output.WriteLineAsync(
                $"{(createdSuper ? "created super stream" : "super stream")} {name}{(createdSuper ? string.Empty : " already exists")}: partitions [{string.Join(",", partitionNames)}] ({spec})")
                .ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary><c>90s</c>, <c>30m</c>, <c>12h</c>, <c>7d</c> or a TimeSpan; at least one whole second.</summary>
    public static TimeSpan? ParseAge(ArgumentResult result)
    {
        var raw = result.Tokens[^1].Value;
        if (TryParseAge(raw, out var age))
        {
            return age;
        }

        result.AddError($"option --max-age: '{raw}' is not a whole number of seconds, minutes, hours or days (90s, 30m, 12h, 7d) or a TimeSpan of whole seconds");
        return null;
    }

    public static bool TryParseAge(string raw, out TimeSpan age)
    {
        age = default;
        if (raw.Length >= 2 && long.TryParse(raw.AsSpan(0, raw.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is > 0 and < 100_000_000)
        {
            var unit = char.ToLowerInvariant(raw[^1]);
            age = unit switch
            {
                's' => TimeSpan.FromSeconds(n),
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                'd' => TimeSpan.FromDays(n),
                _ => TimeSpan.Zero,
            };
        }
        else if (TimeSpan.TryParse(raw, CultureInfo.InvariantCulture, out var span))
        {
            age = span;
        }

        return age >= TimeSpan.FromSeconds(1) && age.Ticks % TimeSpan.TicksPerSecond == 0;
    }
}
