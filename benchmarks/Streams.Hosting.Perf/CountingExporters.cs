using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Streams.Hosting.Perf;

/// <summary>A trace exporter that only counts the spans it is given: the SDK's pipeline runs in full, nothing is sent.</summary>
internal sealed class CountingActivityExporter : BaseExporter<Activity>
{
    private long _spans;

    public long Spans => Interlocked.Read(ref _spans);

    public override ExportResult Export(in Batch<Activity> batch)
    {
        Interlocked.Add(ref _spans, batch.Count);
        return ExportResult.Success;
    }
}

/// <summary>
/// A metric exporter that counts exports and keeps the last cumulative total of
/// <c>messaging.client.consumed.messages</c>, which must equal the messages the handler saw.
/// </summary>
internal sealed class CountingMetricExporter : BaseExporter<Metric>
{
    /// <summary>The documented name of the consumed-messages counter (see src/Streams.Hosting.OpenTelemetry/README.md).</summary>
    private const string ConsumedMessagesMetric = "messaging.client.consumed.messages";

    private long _exports;
    private long _consumed;

    public long Exports => Interlocked.Read(ref _exports);

    public long ConsumedMessages => Interlocked.Read(ref _consumed);

    public override ExportResult Export(in Batch<Metric> batch)
    {
        Interlocked.Increment(ref _exports);
        foreach (var metric in batch)
        {
            if (metric.Name != ConsumedMessagesMetric)
            {
                continue;
            }

            long sum = 0;
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                sum += point.GetSumLong();
            }

            Interlocked.Exchange(ref _consumed, sum);
        }

        return ExportResult.Success;
    }
}
