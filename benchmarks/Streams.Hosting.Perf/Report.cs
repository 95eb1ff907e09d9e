using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;

namespace Streams.Hosting.Perf;

/// <summary>Plain aligned text: one line per measurement, medians, and one <c>RESULT</c> line per scenario.</summary>
internal static class Report
{
    public static void Header(TextWriter output, PerfSettings settings)
    {
        var gc = GCSettings.IsServerGC ? "server" : "workstation";
        var concurrent = GCSettings.LatencyMode == GCLatencyMode.Batch ? "non-concurrent" : "concurrent";
        output.WriteLine(Invariant($"Streams.Hosting.Perf {settings.Scenario}: messages {settings.Messages:N0} x 100 B, rounds {settings.Rounds}, {RedactedUri(settings.Uri)}"));
        output.WriteLine(Invariant($"{RuntimeInformation.FrameworkDescription}, {Environment.ProcessorCount} cores, {gc} GC ({concurrent}), {DateTime.Now:yyyy-MM-dd HH:mm}{LoadAverage()}"));
    }

    public static void Section(TextWriter output, string title)
    {
        output.WriteLine();
        output.WriteLine($"== {title}");
    }

    /// <summary><c>label  what  rate/s  note</c> with fixed columns.</summary>
    public static void Line(TextWriter output, string label, string what, double rate, string? note = null) =>
        output.WriteLine(Invariant($"{label,-10}{what,-14}{Rate(rate),14}  {note}").TrimEnd());

    public static string Rate(double perSecond) => Invariant($"{perSecond:N0}/s");

    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Percent(double ratio) => Invariant($"{ratio * 100:F1}%");

    public static string Change(double ratio) => Invariant($"{(ratio - 1) * 100:+0.0;-0.0}%");

    public static string Seconds(TimeSpan elapsed) => Invariant($"{elapsed.TotalSeconds:F2} s");

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    public static string Runs(IEnumerable<double> rates) => "runs " + string.Join(" / ", rates.Select(r => Invariant($"{r:N0}")));

    private static string RedactedUri(string uri) => RabbitStreamsOptions.RedactConnectionString(uri);

    /// <summary>The machine is shared: the 1-minute load average is part of the figures' context.</summary>
    private static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? ", load " + File.ReadAllText("/proc/loadavg").Split(' ')[0] : string.Empty;
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }
}
