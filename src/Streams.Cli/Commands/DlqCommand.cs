using System.CommandLine;
using System.Globalization;
using Streams.Cli.Cli;
using Streams.Hosting;

namespace Streams.Cli.Commands;

/// <summary><c>streams dlq replay</c>: sends dead letters back to their stream (<see cref="StreamDeadLetterReplayer"/>).</summary>
internal static class DlqCommand
{
    public static Command Create(CliEnvironment env, Option<string> uri)
    {
        var command = new Command("dlq", "Work with dead-letter streams (written by the hosting layer's failure policy).");
        command.Subcommands.Add(Replay(env, uri));
        return command;
    }

    private static Command Replay(CliEnvironment env, Option<string> uri)
    {
        var deadLetterStream = new Argument<string>("dead-letter-stream") { Description = "The dead-letter stream, e.g. orders.dlq." };
        var to = CliOptions.Text("--to", "Send every dead letter to this stream (default: each one's x-original-stream).", "STREAM");
        var original = CliOptions.Text("--original-stream", "Only the dead letters of this original stream (x-original-stream); the others are counted as filtered.", "STREAM");
        var fromOffset = CliOptions.OptionalInt64("--from-offset",
            "The first dead-letter offset to read (default: after the last --move, else the first).", min: 0);
        var toOffset = CliOptions.OptionalInt64("--to-offset", "The last dead-letter offset to read (default: the last message when the replay starts).", min: 0);
        var count = CliOptions.OptionalInt64("--count", "Read at most N dead letters (replayed, already replayed or filtered).", min: 1);
        var move = CliOptions.Flag("--move",
            "Move instead of copy: also store the last offset read on the dead-letter stream (consumer name streams-dlq-replay), so the next run starts after it.");
        var dryRun = CliOptions.Flag("--dry-run", "Read and count what would be replayed; send and store nothing.");
        var command = new Command("replay",
            "Send dead letters back to their x-original-stream (or --to) with their properties and application properties, without the failure's x-exception-*/x-original-* ones "
            + "and with x-replay-count incremented. Idempotent: a deduplicating producer per target (publishing id = dead-letter offset + 1) never sends one twice. "
            + "Prints {dead-letter-stream}: replayed=N already_replayed=N filtered=N first_offset=O last_offset=O, then '  -> {stream}: N' per target.")
        {
            deadLetterStream, to, original, fromOffset, toOffset, count, move, dryRun,
        };
        command.Validators.Add(result =>
        {
            if (result.Valid(deadLetterStream) is { Length: 0 })
            {
                result.AddError("the dead-letter stream name must not be empty");
            }

            foreach (var option in new[] { to, original })
            {
                if (result.Valid(option) is { Length: 0 })
                {
                    result.AddError($"option {option.Name}: the name must not be empty");
                }
            }

            if (result.Valid(fromOffset) is { } from && result.Valid(toOffset) is { } last && last < from)
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"option --to-offset: {last} is before --from-offset {from}"));
            }
        });
        command.SetAction(async (parse, ct) =>
        {
            var options = new DeadLetterReplayOptions
            {
                TargetStream = parse.GetValue(to),
                OriginalStream = parse.GetValue(original),
                FromOffset = (ulong?)parse.GetValue(fromOffset),
                ToOffset = (ulong?)parse.GetValue(toOffset),
                MaxMessages = parse.GetValue(count),
                Mode = parse.GetValue(move) ? DeadLetterReplayMode.Move : DeadLetterReplayMode.Copy,
                DryRun = parse.GetValue(dryRun),
            };
            await using var system = await Connection.ConnectAsync(parse.GetValue(uri)!, ct).ConfigureAwait(false);
            var result = await new StreamDeadLetterReplayer(system).ReplayAsync(parse.GetValue(deadLetterStream)!, options, ct).ConfigureAwait(false);
            await env.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{result.DeadLetterStream}: replayed={result.Replayed} already_replayed={result.AlreadyReplayed} filtered={result.Filtered} first_offset={Show(result.FirstOffset)} last_offset={Show(result.LastOffset)}{(result.DryRun ? " (dry run: nothing sent)" : string.Empty)}"))
                .ConfigureAwait(false);
            foreach (var (target, sent) in result.Targets.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                await env.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  -> {target}: {sent}")).ConfigureAwait(false);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static string Show(ulong? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";
}
