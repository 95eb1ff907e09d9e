namespace Streams.Cli.Commands;

/// <summary>Dispatches <c>streams &lt;command&gt; …</c> to its command.</summary>
internal static class CommandRunner
{
    public const string Usage = """
        streams: drive RabbitMQ streams from the command line.

          streams publish (--stream S | --super-stream SS [--routing-key K] [--partitions N]) --count N [--size B | --body TEXT] [--amqp]
                          [--message-id ID] [--correlation-id ID] [--content-type T] [--property key=value ...]
                          [--filter VALUE] [--producer-name P]
          streams tail (--stream S | --super-stream SS) [--from first|last|next|<offset>|<ISO-8601 time>] [--count N]
                       [--format text|json] [--name G [--single-active-consumer]] [--filter VALUE ... [--match-unfiltered]]
          streams stats (--stream S | --super-stream SS)
          streams perf publish|consume|latency [--count N] [--size B] [--amqp] [--rate R] [--stream S]
                       [--sub-entry N [--compression none|gzip]] [--sub-entry N [--compression none|gzip]]

        Every command takes --uri rabbitmq-stream://user:pass@host:port/vhost
        (default rabbitmq-stream://guest:guest@localhost:5552/%2f).
        In --body, the ids, property values, --routing-key and --filter, {seq} is the message's 1-based sequence number.
        A missing stream is created (a missing super stream with --partitions N, default 3).
        Super-stream messages are routed by the MurmurHash3 of the routing key (default {seq}). --filter sets the
        message's broker filter value and the application property "x-stream-filter-value" with the same value, which
        tail --filter and hosted consumers (FilterValues) check to drop the broker's false positives.
        Exit codes: 0 success, 1 broker or client failure, 2 bad input.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
        {
            await output.WriteLineAsync(Usage).ConfigureAwait(false);
            return args.Length == 0 ? 2 : 0;
        }

        var rest = args.AsSpan(1).ToArray();
        return args[0] switch
        {
            "publish" => await PublishCommand.RunAsync(rest, output, cancellationToken).ConfigureAwait(false),
            "tail" => await TailCommand.RunAsync(rest, output, cancellationToken).ConfigureAwait(false),
            "stats" => await StatsCommand.RunAsync(rest, output, cancellationToken).ConfigureAwait(false),
            "perf" => await PerfCommand.RunAsync(rest, output, cancellationToken).ConfigureAwait(false),
            _ => throw new UsageException($"unknown command '{args[0]}' (commands: publish, tail, stats, perf, help)"),
        };
    }
}
