using System.Globalization;
using Streams.Client;

namespace Streams.Cli.Commands;

/// <summary><c>streams stats</c>: offsets and placement of a stream, or of each partition of a super stream.</summary>
internal static class StatsCommand
{
    private static readonly string[] ValueOptions = [Connection.UriOption, "stream", "super-stream"];

    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        var arguments = Arguments.Parse(args, ValueOptions, []);
        var stream = arguments.Value("stream");
        var superStream = arguments.Value("super-stream");
        if ((stream is null) == (superStream is null))
        {
            throw new UsageException("give exactly one of --stream and --super-stream");
        }

        await using var system = await Connection.ConnectAsync(arguments, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<string> streams = superStream is null
            ? [stream!]
            : await system.QueryPartitionsAsync(superStream, cancellationToken).ConfigureAwait(false);
        var metadata = await system.QueryMetadataAsync(streams, cancellationToken).ConfigureAwait(false);
        foreach (var item in metadata)
        {
            if (!item.Exists)
            {
                throw new StreamDoesNotExistException(item.Stream, $"The stream {item.Stream} does not exist.");
            }

            var stats = await system.GetStreamStatisticsAsync(item.Stream, cancellationToken).ConfigureAwait(false);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{item.Stream}: first_offset={Show(stats.FirstOffset)} committed_chunk_id={Show(stats.CommittedChunkId)} last_chunk_id={Show(stats.LastChunkId)} leader={item.Leader?.ToString() ?? "-"} replicas=[{string.Join(",", item.Replicas)}]"))
                .ConfigureAwait(false);
        }

        return 0;
    }

    private static string Show(ulong? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";
}
