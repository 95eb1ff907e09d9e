namespace Streams.Cli.Commands;

/// <summary>Dispatches <c>streams &lt;command&gt; …</c> to its command.</summary>
internal static class CommandRunner
{
    public const string Usage = """
        streams: drive RabbitMQ streams from the command line.

          streams publish --stream S --count N [--size B | --body TEXT] [--amqp] [--message-id ID]
                          [--correlation-id ID] [--content-type T] [--property key=value ...] [--producer-name P]
          streams tail --stream S [--from first|last|next|<offset>|<ISO-8601 time>] [--count N] [--format text|json]
          streams perf publish|consume|latency [--count N] [--size B] [--amqp] [--rate R] [--stream S]

        Every command takes --uri rabbitmq-stream://user:pass@host:port/vhost
        (default rabbitmq-stream://guest:guest@localhost:5552/%2f).
        In --body, the ids and property values, {seq} is the message's 1-based sequence number.
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
            "perf" => await PerfCommand.RunAsync(rest, output, cancellationToken).ConfigureAwait(false),
            _ => throw new UsageException($"unknown command '{args[0]}' (commands: publish, tail, perf, help)"),
        };
    }
}
