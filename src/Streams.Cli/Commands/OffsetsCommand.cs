using System.CommandLine;
using System.Globalization;
using Streams.Cli.Cli;
using Streams.Client;

namespace Streams.Cli.Commands;

/// <summary><c>streams offsets query|store</c>: the offset stored for a consumer name.</summary>
internal static class OffsetsCommand
{
    /// <summary>How long <c>offsets store</c> waits to read the stored offset back (the broker does not confirm a store).</summary>
    public static readonly TimeSpan StoreReadBackTimeout = TimeSpan.FromSeconds(10);

    public static Command Create(CliEnvironment env, Option<string> uri)
    {
        var command = new Command("offsets", "Query or store the offset of a consumer name (offset tracking).");
        command.Subcommands.Add(Query(env, uri));
        command.Subcommands.Add(Store(env, uri));
        return command;
    }

    private static Option<string> NameOption() =>
        new("--name") { Description = "The consumer name (ConsumerOptions.Name, tail --name).", HelpName = "NAME", Required = true };

    private static Command Query(CliEnvironment env, Option<string> uri)
    {
        var target = new StreamTarget("query");
        var name = NameOption();
        var command = new Command("query", "Print {stream}: name=N offset=O (offset=- when none is stored). With --super-stream, one line per partition.");
        target.AddTo(command);
        command.Options.Add(name);
        command.SetAction(async (parse, ct) =>
        {
            var consumer = parse.GetValue(name)!;
            await using var system = await Connection.ConnectAsync(parse.GetValue(uri)!, ct).ConfigureAwait(false);
            var streams = await target.StreamsAsync(parse, system, ct).ConfigureAwait(false);
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
            if (!await system.StreamExistsAsync(streamName, ct).ConfigureAwait(false))
            {
                throw new StreamDoesNotExistException(streamName, $"The stream {streamName} does not exist.");
            }

            await system.StoreOffsetAsync(consumer, streamName, value, ct).ConfigureAwait(false);
            // Store is fire-and-forget on the wire: the offset is reported once the broker returns it.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(StoreReadBackTimeout);
            ulong? stored;
            try
            {
                while ((stored = await system.QueryOffsetAsync(consumer, streamName, timeout.Token).ConfigureAwait(false)) != value)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(50), timeout.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new StreamTimeoutException($"The broker did not report offset {value} for '{consumer}' on {streamName} within {StoreReadBackTimeout.TotalSeconds:F0} s.");
            }

            await env.Output.WriteLineAsync(Line(streamName, consumer, stored)).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    private static string Line(string stream, string name, ulong? offset) =>
        $"{stream}: name={name} offset={offset?.ToString(CultureInfo.InvariantCulture) ?? "-"}";
}
