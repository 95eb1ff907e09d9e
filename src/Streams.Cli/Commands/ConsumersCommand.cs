using System.CommandLine;
using System.Globalization;
using Streams.Cli.Cli;
using Streams.Cli.Inspection;
using Streams.Client;

namespace Streams.Cli.Commands;

/// <summary>
/// <c>streams consumers</c>: for each consumer name, its stored offset, the last offset and the lag on a stream or on
/// each partition of a super stream (the <c>kafka-consumer-groups --describe</c> of streams).
/// </summary>
internal static class ConsumersCommand
{
    public const string NamesRequired =
        "give the consumer names with --name: the stream protocol cannot list the names that stored offsets on a stream";

    public static Command Create(CliEnvironment env, Option<string> uri)
    {
        var target = new Argument<string>("stream-or-super-stream") { Description = "A stream, or a super stream (one row per partition and name)." };
        var names = CliOptions.Repeated("--name", "A consumer name (ConsumerOptions.Name, [StreamConsumer] Name); repeat for several. Required: the protocol cannot list them.", "NAME");
        var countLimit = CountLimitOption();
        var command = new Command("consumers",
            "Print, per stream or partition and consumer name: STREAM, CONSUMER, STORED_OFFSET (- when none), LAST_OFFSET (the last message), LAG (messages after the stored offset; ~N: at most N, not counted).")
        {
            target, names, countLimit,
        };
        command.Validators.Add(result =>
        {
            var given = result.Valid(names) ?? [];
            if (given.Length == 0)
            {
                result.AddError(NamesRequired);
            }
            else if (given.Any(n => n.Length == 0))
            {
                result.AddError("option --name: the name must not be empty");
            }

            if (result.Valid(target) is { Length: 0 })
            {
                result.AddError("the stream name must not be empty");
            }
        });
        command.SetAction(async (parse, ct) =>
        {
            var name = parse.GetValue(target)!;
            await using var system = await Connection.ConnectAsync(parse.GetValue(uri)!, ct).ConfigureAwait(false);
            var streams = await ResolveAsync(system, name, ct).ConfigureAwait(false);
            var positions = await ConsumerPosition.QueryAsync(system, streams, parse.GetValue(names)!.Distinct(StringComparer.Ordinal).ToList(), parse.GetValue(countLimit), ct).ConfigureAwait(false);
            await WriteTableAsync(env.Output, positions).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The <c>--count-limit</c> of the lag: how many offsets it reads at most to count messages exactly.</summary>
    public static Option<long> CountLimitOption() => CliOptions.Int64("--count-limit",
        "Count the lag's messages by reading them only when they span at most this many offsets (else LAG is ~N, the offset distance).",
        StatsCommand.DefaultCountLimit, min: 0);

    /// <summary>The stream <paramref name="name"/>, else the partitions of the super stream <paramref name="name"/>.</summary>
    public static async Task<IReadOnlyList<string>> ResolveAsync(StreamSystem system, string name, CancellationToken cancellationToken)
    {
        if (await system.StreamExistsAsync(name, cancellationToken).ConfigureAwait(false))
        {
            return [name];
        }

        try
        {
            return await system.QueryPartitionsAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (StreamDoesNotExistException)
        {
            throw new StreamDoesNotExistException(name, $"{name} is neither a stream nor a super stream.");
        }
    }

    private static async Task WriteTableAsync(TextWriter output, IReadOnlyList<ConsumerPosition> positions)
    {
        string[] header = ["STREAM", "CONSUMER", "STORED_OFFSET", "LAST_OFFSET", "LAG"];
        var rows = positions.Select(p => new[] { p.Stream, p.Name, Show(p.StoredOffset), Show(p.LastOffset), p.LagText }).Prepend(header).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
        {
            var line = string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i])));
            await output.WriteLineAsync(line).ConfigureAwait(false);
        }
    }

    private static string Show(ulong? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";
}
