using System.CommandLine;
using Streams.Cli.Cli;
using Streams.Client;

namespace Streams.Cli.Commands;

/// <summary><c>streams delete</c>: a stream, or a super stream and its partitions.</summary>
internal static class DeleteCommand
{
    public static Command Create(CliEnvironment env, Option<string> uri)
    {
        var target = new StreamTarget("delete");
        var ifExists = CliOptions.Flag("--if-exists", "A missing stream is not an error (exit 0).");
        var command = new Command("delete", "Delete a stream, or a super stream and its partitions, with all their messages. A missing one is a failure (exit 1) unless --if-exists.");
        target.AddTo(command);
        command.Options.Add(ifExists);
        command.SetAction(async (parse, ct) =>
        {
            var (name, isSuper) = target.Get(parse);
            var kind = isSuper ? "super stream" : "stream";
            await using var system = await Connection.ConnectAsync(parse.GetValue(uri)!, ct).ConfigureAwait(false);
            try
            {
                if (isSuper)
                {
                    await system.DeleteSuperStreamAsync(name, ct).ConfigureAwait(false);
                }
                else
                {
                    await system.DeleteStreamAsync(name, ct).ConfigureAwait(false);
                }
            }
            catch (StreamDoesNotExistException) when (parse.GetValue(ifExists))
            {
                await env.Output.WriteLineAsync($"{kind} {name} does not exist").ConfigureAwait(false);
                return ExitCodes.Success;
            }

            await env.Output.WriteLineAsync($"deleted {kind} {name}").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }
}
