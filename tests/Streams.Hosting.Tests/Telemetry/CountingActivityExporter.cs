using System.Diagnostics;
using OpenTelemetry;

namespace Streams.Hosting.Tests.Telemetry;

/// <summary>
/// Counts the spans it exports and keeps none: the cost measurements start millions of spans, which the SDK's
/// in-memory exporter (used by the functional telemetry tests) would all hold.
/// </summary>
internal sealed class CountingActivityExporter : BaseExporter<Activity>
{
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    public override ExportResult Export(in Batch<Activity> batch)
    {
        foreach (var _ in batch)
        {
            Interlocked.Increment(ref _count);
        }

        return ExportResult.Success;
    }
}
