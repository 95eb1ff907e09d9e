using System.CommandLine;
using System.CommandLine.Invocation;
using Streams.Cli.Cli;
using Streams.Client;

namespace Streams.Cli.Commands;

/// <summary>
/// The <c>streams</c> command tree on System.CommandLine, and the one entry point that runs it with the exit codes
/// of <see cref="ExitCodes"/>: parse errors and <see cref="UsageException"/> are 2, client failures 1.
/// </summary>
internal static class CommandRunner
{
    public const string Description = """
        Drive RabbitMQ streams from the command line: create, delete, publish, tail, stats, sequence, offsets, consumers, dlq, perf.
        Every command takes --uri (default rabbitmq-stream://guest:guest@localhost:5552/%2f).
        Exit codes: 0 success, 1 broker or client failure, 2 bad input.
        """;

    /// <summary>The command tree; <paramref name="env"/> receives what the commands print.</summary>
    public static RootCommand CreateRoot(CliEnvironment env)
    {
        var uri = Connection.CreateUriOption();
        var root = new RootCommand(Description);
        root.Options.Add(uri);
        root.Subcommands.Add(CreateCommand.Create(env, uri));
        root.Subcommands.Add(DeleteCommand.Create(env, uri));
        root.Subcommands.Add(PublishCommand.Create(env, uri));
        root.Subcommands.Add(TailCommand.Create(env, uri));
        root.Subcommands.Add(StatsCommand.Create(env, uri));
        root.Subcommands.Add(SequenceCommand.Create(env, uri));
        root.Subcommands.Add(OffsetsCommand.Create(env, uri));
        root.Subcommands.Add(ConsumersCommand.Create(env, uri));
        root.Subcommands.Add(DlqCommand.Create(env, uri));
        root.Subcommands.Add(PerfCommand.Create(env, uri));
        return root;
    }

    /// <summary>Runs <c>streams</c> with <paramref name="args"/>, printing results to <paramref name="output"/> and diagnostics to stderr.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken) =>
        RunAsync(args, new CliEnvironment(output, Console.Error, Interactive: false), cancellationToken);

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CliEnvironment env, CancellationToken cancellationToken)
    {
        var root = CreateRoot(env);
        if (args.Length == 0)
        {
            // No command: the overview, on stderr, as bad input.
            await root.Parse(["--help"]).InvokeAsync(new InvocationConfiguration { Output = env.Error }, cancellationToken).ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var parse = root.Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            foreach (var error in parse.Errors)
            {
                await env.Error.WriteLineAsync($"streams: {error.Message}").ConfigureAwait(false);
            }

            await env.Error.WriteLineAsync($"Run `{CommandPath(parse)} --help` for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration
        {
            Output = env.Output,
            Error = env.Error,
            EnableDefaultExceptionHandler = false,
            // Ctrl+C is the caller's (Program.cs cancels the token).
            ProcessTerminationTimeout = null,
        };
        try
        {
            return await parse.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
        }
        catch (UsageException ex)
        {
            await env.Error.WriteLineAsync($"streams: {ex.Message}").ConfigureAwait(false);
            await env.Error.WriteLineAsync($"Run `{CommandPath(parse)} --help` for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (ArgumentException ex)
        {
            // The client validates names and values it is given (e.g. a consumer name longer than 255 bytes).
            await env.Error.WriteLineAsync($"streams: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (StreamClientException ex)
        {
            await env.Error.WriteLineAsync($"streams: {ex.GetType().Name}: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Interrupted;
        }
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Add(result.Parent is null ? "streams" : result.Command.Name);
        }

        names.Reverse();
        return string.Join(' ', names);
    }
}
