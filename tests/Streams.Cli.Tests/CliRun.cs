using Streams.Cli.Cli;
using Streams.Cli.Commands;

namespace Streams.Cli.Tests;

/// <summary>What one run of <c>streams</c> returned and printed.</summary>
public sealed record CliResult(int Code, string Output, string Error)
{
    public string[] Lines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>Runs <c>streams</c> through the same entry point as the executable, capturing stdout and stderr.</summary>
internal static class CliRun
{
    public static async Task<CliResult> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CommandRunner.RunAsync(args, new CliEnvironment(output, error, Interactive: false), TestContext.Current.CancellationToken);
        return new CliResult(code, output.ToString(), error.ToString());
    }
}
