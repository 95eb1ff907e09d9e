using System.Globalization;
using Streams.Client.Tests.Hostile;

namespace Streams.Fuzz;

/// <summary>
/// The long, benchmark-style run of the hostile-input fuzzer (issue 13): mutated Deliver frames through a real consumer,
/// mutated PublishConfirm frames through a real producer (both against the loopback FuzzBroker), and mutated chunks
/// straight into the chunk parser. Prints the figures; exits 1 when any case failed.
/// Usage: Streams.Fuzz [--seed N] [--deliver FRAMES] [--confirm FRAMES] [--parser CHUNKS] [--failures N]
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        int seed = Arg(args, "--seed", 2026);
        int deliver = Arg(args, "--deliver", 50_000);
        int confirm = Arg(args, "--confirm", 10_000);
        int parser = Arg(args, "--parser", 200_000);
        int failures = Arg(args, "--failures", 5);
        Console.WriteLine($"Streams.Fuzz seed {seed}: deliver {deliver} frames, confirm {confirm} frames, parser {parser} chunks ({Environment.ProcessorCount} cores, .NET {Environment.Version})");
        var reports = new List<FuzzReport>();
        if (parser > 0)
        {
            reports.Add(Print(ChunkParserFuzzer.Run(new FuzzSettings(seed, parser)), failures));
        }

        if (deliver > 0)
        {
            reports.Add(Print(await DeliverFuzzer.RunAsync(new FuzzSettings(seed, deliver), CancellationToken.None), failures));
        }

        if (confirm > 0)
        {
            reports.Add(Print(await ConfirmFuzzer.RunAsync(new FuzzSettings(seed, confirm), CancellationToken.None), failures));
        }

        int total = reports.Sum(r => r.FailureCount);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"TOTAL: {reports.Sum(r => r.Frames)} frames, untyped {reports.Sum(r => r.Count(Outcome.Untyped))}, crashes 0, hangs {reports.Sum(r => r.Count(Outcome.Hang))}, wrong offsets/confirms {reports.Sum(r => r.Count(Outcome.WrongDelivery))}, memory {reports.Sum(r => r.Count(Outcome.Memory))}, peak managed heap {reports.Max(r => r.PeakManagedBytes) / (1024.0 * 1024):0.0} MiB, peak working set {reports.Max(r => r.PeakWorkingSetBytes) / (1024.0 * 1024):0.0} MiB, {reports.Sum(r => r.Elapsed.TotalSeconds):0.0} s"));
        return total == 0 ? 0 : 1;
    }

    private static FuzzReport Print(FuzzReport report, int failures)
    {
        Console.WriteLine(report.Summary());
        foreach (var failure in report.Failures.Take(failures))
        {
            Console.WriteLine("  " + failure);
        }

        Console.WriteLine();
        return report;
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
