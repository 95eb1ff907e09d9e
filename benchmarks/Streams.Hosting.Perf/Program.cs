using Streams.Client;
using Streams.Hosting;
using Streams.Hosting.Perf;

if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
{
    Console.WriteLine(PerfSettings.Usage);
    return args.Length == 0 ? 2 : 0;
}

PerfSettings settings;
try
{
    settings = PerfSettings.Parse(args);
}
catch (UsageException ex)
{
    await Console.Error.WriteLineAsync($"Streams.Hosting.Perf: {ex.Message} (--help shows the usage)");
    return 2;
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};

var output = Console.Out;
Report.Header(output, settings);
try
{
    var ok = true;
    foreach (var scenario in settings.Scenario == "all" ? ["consume", "publish", "telemetry"] : new[] { settings.Scenario })
    {
        ok &= scenario switch
        {
            "consume" => await ConsumeScenario.RunAsync(settings, output, cts.Token),
            "publish" => await PublishScenario.RunAsync(settings, output, cts.Token),
            "connections" => await ConnectionsScenario.RunAsync(settings, output, cts.Token),
            _ => await TelemetryScenario.RunAsync(settings, output, cts.Token),
        };
    }

    return ok ? 0 : 1;
}
catch (OperationCanceledException) when (cts.IsCancellationRequested)
{
    return 130;
}
catch (Exception ex) when (ex is StreamClientException or StreamPublishException or TimeoutException)
{
    await Console.Error.WriteLineAsync($"Streams.Hosting.Perf: {ex.GetType().Name}: {ex.Message}");
    return 1;
}
