using Streams.Cli.Cli;
using Streams.Cli.Commands;

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};

try
{
    return await CommandRunner.RunAsync(args, CliEnvironment.FromConsole(), cts.Token).ConfigureAwait(false);
}
finally
{
    // Flushes the client's queued warnings to standard error before the process ends.
    Connection.Logging.Dispose();
}
