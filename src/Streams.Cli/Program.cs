using Streams.Cli;
using Streams.Cli.Commands;
using Streams.Client;

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};

try
{
    return await CommandRunner.RunAsync(args, Console.Out, cts.Token).ConfigureAwait(false);
}
catch (UsageException ex)
{
    await Console.Error.WriteLineAsync($"streams: {ex.Message}").ConfigureAwait(false);
    await Console.Error.WriteLineAsync("Run `streams help` for usage.").ConfigureAwait(false);
    return 2;
}
catch (StreamClientException ex)
{
    await Console.Error.WriteLineAsync($"streams: {ex.GetType().Name}: {ex.Message}").ConfigureAwait(false);
    return 1;
}
catch (OperationCanceledException) when (cts.IsCancellationRequested)
{
    return 130;
}
finally
{
    // Flushes the client's queued warnings to standard error before the process ends.
    Connection.Logging.Dispose();
}
