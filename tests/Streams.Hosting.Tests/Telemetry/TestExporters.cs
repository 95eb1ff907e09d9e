using System.Collections.Concurrent;
using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Streams.Hosting.Tests.Telemetry;

/// <summary>An OpenTelemetry trace exporter written for the tests: keeps (or only counts) what it exports.</summary>
internal sealed class TestActivityExporter(bool keep) : BaseExporter<Activity>
{
    public long Count;

    public ConcurrentQueue<Activity> Exported { get; } = new();

    public override ExportResult Export(in Batch<Activity> batch)
    {
        foreach (var activity in batch)
        {
            Interlocked.Increment(ref Count);
            if (keep)
            {
                Exported.Enqueue(activity);
            }
        }

        return ExportResult.Success;
    }
}

/// <summary>An OpenTelemetry metric exporter written for the tests: keeps the names and units of the exported metrics.</summary>
internal sealed class TestMetricExporter : BaseExporter<Metric>
{
    public ConcurrentDictionary<string, string> Units { get; } = new();

    public override ExportResult Export(in Batch<Metric> batch)
    {
        foreach (var metric in batch)
        {
            Units[metric.Name] = metric.Unit;
        }

        return ExportResult.Success;
    }
}
