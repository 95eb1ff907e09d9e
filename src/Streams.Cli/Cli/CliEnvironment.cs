namespace Streams.Cli.Cli;

/// <summary>Where a run of <c>streams</c> writes, and whether its output is a terminal (progress lines).</summary>
/// <param name="Output">Results: lines of text or JSON.</param>
/// <param name="Error">Diagnostics, notes and usage errors.</param>
/// <param name="Interactive">True when <paramref name="Output"/> is a terminal (<c>Console.IsOutputRedirected</c> false).</param>
internal sealed record CliEnvironment(TextWriter Output, TextWriter Error, bool Interactive)
{
    /// <summary>The process's console.</summary>
    public static CliEnvironment FromConsole() => new(Console.Out, Console.Error, !Console.IsOutputRedirected);
}
