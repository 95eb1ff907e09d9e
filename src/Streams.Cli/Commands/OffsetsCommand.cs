using System.CommandLine;
using System.Globalization;
using Streams.Cli.Cli;
using Streams.Cli.Inspection;
using Streams.Client;

namespace Streams.Cli.Commands;

/// <summary><c>streams offsets query|store|set</c>: the offset stored for a consumer name, its lag, and rewinding it.</summary>
internal static class OffsetsCommand
{
    /// <summary>How long <c>offsets store</c> waits to read the stored offset back (the broker does not confirm a store).</summary>
    public static readonly TimeSpan StoreReadBackTimeout = TimeSpan.FromSeconds(10);

    public static Command Create(CliEnvironment env, Option<string> uri)
    {
        var command = new Command("offsets", "Query, store or set (rewind) the offset of a consumer name (offset tracking).");
        command.Subcommands.Add(Query(env, uri));
        command.Subcommands.Add(Store(env, uri));
        command.Subcommands.Add(Set(env, uri));
        return command;
    }

    private static Option<string> NameOption() =>
        new("--name") { Description = "The consumer name (ConsumerOptions.Name, tail --name).", HelpName = "NAME", Required = true };

    private static Command Query(CliEnvironment env, Option<string> uri)
    {
        var target = new StreamTarget("query");
        var name = NameOption();
        var lag = CliOptions.Flag("--lag", "Also print last_offset=L (the last message) and lag=N (messages after the stored offset; ~N: at most N, not counted; - when none is stored).");
        var countLimit = ConsumersCommand.CountLimitOption();
        var command = new Command("query", "Print {stream}: name=N offset=O (offset=- when none is stored). With --super-stream, one line per partition.");
        target.AddTo(command);
        command.Options.Add(name);
        command.Options.Add(lag);
        command.Options.Add(countLimit);
        command.SetAction(async (parse, ct) =>
        {
            var consumer = parse.GetValue(name)!;
            await using var system = await Connection.ConnectAsync(parse.GetValue(uri)!, ct).ConfigureAwait(false);
            var streams = await target.StreamsAsync(parse, system, ct).ConfigureAwait(false);
            if (parse.GetValue(lag))
            {
                foreach (var position in await ConsumerPosition.QueryAsync(system, streams, [consumer], parse.GetValue(countLimit), ct).ConfigureAwait(false))
                {
                    await env.Output.WriteLineAsync(
                        $"{Line(position.Stream, consumer, position.StoredOffset)} last_offset={position.LastOffset?.ToString(CultureInfo.InvariantCulture) ?? "-"} lag={position.LagText}").ConfigureAwait(false);
                }

                return ExitCodes.Success;
            }

            foreach (var item in streams)
            {
                var offset = await system.QueryOffsetAsync(consumer, item, ct).ConfigureAwait(false);
                await env.Output.WriteLineAsync(Line(item, consumer, offset)).ConfigureAwait(false);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Store(CliEnvironment env, Option<string> uri)
    {
        var stream = new Option<string>("--stream") { Description = "The stream (for a super stream, the partition).", HelpName = "NAME", Required = true };
        var name = NameOption();
        var offset = new Option<ulong>("--offset")
        {
            Description = "The offset to store (conventionally the last processed one: the consumer resumes after it).",
            HelpName = "OFFSET",
            Required = true,
            CustomParser = result =>
            {
                var raw = result.Tokens[^1].Value;
                if (ulong.TryParse(raw.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                {
                    return value;
                }

                result.AddError($"option --offset: '{raw}' is not an offset (a whole number from 0)");
                return 0;
            },
        };
        var command = new Command("store", "Store an offset for a consumer name, then read it back: {stream}: name=N offset=O.") { stream, name, offset };
        command.SetAction(async (parse, ct) =>
        {
            var streamName = parse.GetValue(stream)!;
            var consumer = parse.GetValue(name)!;
            var value = parse.GetValue(offset);
            await using var system = await Connection.ConnectAsync(parse.GetValue(uri)!, ct).ConfigureAwait(false);
            await EnsureExistsAsync(system, streamName, ct).ConfigureAwait(false);
            await system.StoreOffsetAndWaitAsync(consumer, streamName, value, StoreReadBackTimeout, ct).ConfigureAwait(false);
            await env.Output.WriteLineAsync(Line(streamName, consumer, value)).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Set(CliEnvironment env, Option<string> uri)
    {
        var stream = new Argument<string>("stream-or-super-stream") { Description = "The stream, or a super stream: every partition (offset:N is refused there: offsets differ per partition)." };
        var name = NameOption();
        var to = new Option<Rewind>("--to")
        {
            Description = "Where the consumer resumes: first (the first retained message), last (after the last message: only new ones), "
                + "offset:N (at offset N), timestamp:ISO (at the first chunk written at or after the time, resolved by the broker).",
            HelpName = Rewind.Syntax,
            Required = true,
            CustomParser = result =>
            {
                var raw = result.Tokens[^1].Value;
                if (Rewind.TryParse(raw, out var rewind))
                {
                    return rewind;
                }

                result.AddError($"option --to: '{raw}' is not one of {Rewind.Syntax}");
                return null;
            },
        };
        to.CompletionSources.Add("first", "last", "offset:", "timestamp:");
        var command = new Command("set",
            "Rewind (or fast-forward) a consumer name on a stream or on every partition of a super stream: store the offset before where it should resume, read it back, and print {stream}: name=N offset=O resumes_at=R. "
            + "Stop the consumer first: a running one stores its own offset over it.")
        {
            stream, name, to,
        };
        command.Validators.Add(result =>
        {
            if (result.Valid(stream) is { Length: 0 })
            {
                result.AddError("the stream name must not be empty");
            }
        });
        command.SetAction(async (parse, ct) =>
        {
            var targetName = parse.GetValue(stream)!;
            var consumer = parse.GetValue(name)!;
            var rewind = parse.GetValue(to)!;
            await using var system = await Connection.ConnectAsync(parse.GetValue(uri)!, ct).ConfigureAwait(false);
            var streams = await ConsumersCommand.ResolveAsync(system, targetName, ct).ConfigureAwait(false);
            if (rewind.Kind == "offset" && (streams.Count != 1 || streams[0] != targetName))
            {
                throw new UsageException($"--to offset:N names an offset of one stream; {targetName} is a super stream: give a partition, or first, last or timestamp:ISO.");
            }

            // Every partition is resolved before anything is stored: one that cannot be rewound leaves all as they were.
            var resolved = new List<(string Stream, ulong Store, ulong ResumesAt)>(streams.Count);
            foreach (var item in streams)
            {
                var (store, resumesAt) = await rewind.ResolveAsync(system, item, ct).ConfigureAwait(false);
                resolved.Add((item, store, resumesAt));
            }

            foreach (var (item, store, resumesAt) in resolved)
            {
                await system.StoreOffsetAndWaitAsync(consumer, item, store, StoreReadBackTimeout, ct).ConfigureAwait(false);
                await env.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{Line(item, consumer, store)} resumes_at={resumesAt}")).ConfigureAwait(false);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static async Task EnsureExistsAsync(StreamSystem system, string stream, CancellationToken ct)
    {
        if (!await system.StreamExistsAsync(stream, ct).ConfigureAwait(false))
        {
            throw new StreamDoesNotExistException(stream, $"The stream {stream} does not exist.");
        }
    }

    private static string Line(string stream, string name, ulong? offset) =>
        $"{stream}: name={name} offset={offset?.ToString(CultureInfo.InvariantCulture) ?? "-"}";
}
