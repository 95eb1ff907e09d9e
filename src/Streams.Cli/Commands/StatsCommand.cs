using System.CommandLine;
using System.Globalization;
using Streams.Cli.Cli;
using Streams.Cli.Inspection;
using Streams.Client;

namespace Streams.Cli.Commands;

/// <summary><c>streams stats</c>: offsets, message count and placement of a stream, or of each partition of a super stream.</summary>
internal static class StatsCommand
{
    public const long DefaultCountLimit = 1_000_000;

    public static Command Create(CliEnvironment env, Option<string> uri)
    {
        var target = new StreamTarget("describe");
        var countLimit = CliOptions.Int64("--count-limit",
            "Count the messages by reading them only when the stream spans at most this many offsets (0: never count; messages=- when not counted).",
            DefaultCountLimit, min: 0);
        var command = new Command("stats",
            "Print, per stream: first_offset (first retained), last_offset (last message), messages (read and counted), committed_chunk_id, last_chunk_id, leader and replicas.");
        target.AddTo(command);
        command.Options.Add(countLimit);
        command.SetAction(async (parse, ct) =>
        {
            var limit = parse.GetValue(countLimit);
            await using var system = await Connection.ConnectAsync(parse.GetValue(uri)!, ct).ConfigureAwait(false);
            var streams = await target.StreamsAsync(parse, system, ct).ConfigureAwait(false);
            var metadata = await system.QueryMetadataAsync(streams, ct).ConfigureAwait(false);
            foreach (var item in metadata)
            {
                if (!item.Exists)
                {
                    throw new StreamDoesNotExistException(item.Stream, $"The stream {item.Stream} does not exist.");
                }

                var stats = await system.GetStreamStatisticsAsync(item.Stream, ct).ConfigureAwait(false);
                var end = await StreamEnd.ProbeAsync(system, item.Stream, StreamEnd.DefaultProbeTimeout, ct).ConfigureAwait(false);
                long? messages = end is null ? 0 : await MessageCounter.CountAsync(system, item.Stream, stats.FirstOffset ?? 0, end, limit, ct).ConfigureAwait(false);
                await env.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{item.Stream}: first_offset={Show(stats.FirstOffset)} last_offset={Show(end?.LastOffset)} messages={messages?.ToString(CultureInfo.InvariantCulture) ?? "-"} committed_chunk_id={Show(stats.CommittedChunkId)} last_chunk_id={Show(stats.LastChunkId)} leader={item.Leader?.ToString() ?? "-"} replicas=[{string.Join(",", item.Replicas)}]"))
                    .ConfigureAwait(false);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static string Show(ulong? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";
}
