using System.CommandLine;
using System.Globalization;
using Streams.Cli.Cli;

namespace Streams.Cli.Commands;

/// <summary><c>streams sequence</c>: the last publishing id the broker stored for a producer name (deduplication).</summary>
internal static class SequenceCommand
{
    public static Command Create(CliEnvironment env, Option<string> uri)
    {
        var target = new StreamTarget("query");
        var name = new Option<string>("--name") { Description = "The producer name (ProducerOptions.Name, publish --producer-name).", HelpName = "NAME", Required = true };
        var command = new Command("sequence",
            "Print the last publishing id the broker stored for a producer name: {stream}: name=N last_publishing_id=ID (0 when the name never published). With --super-stream, one line per partition.");
        target.AddTo(command);
        command.Options.Add(name);
        command.SetAction(async (parse, ct) =>
        {
            var producer = parse.GetValue(name)!;
            await using var system = await Connection.ConnectAsync(parse.GetValue(uri)!, ct).ConfigureAwait(false);
            var streams = await target.StreamsAsync(parse, system, ct).ConfigureAwait(false);
            foreach (var item in streams)
            {
                var id = await system.QueryPublisherSequenceAsync(producer, item, ct).ConfigureAwait(false);
                await env.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{item}: name={producer} last_publishing_id={id}")).ConfigureAwait(false);
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
