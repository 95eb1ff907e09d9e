using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Streams.Hosting.Tests.Telemetry;

/// <summary>One measurement seen by the <see cref="MeterListener"/>.</summary>
internal sealed record RecordedMeasurement(Instrument Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    public string Name => Instrument.Name;
}

/// <summary>
/// Listens to the Streams.Hosting ActivitySource and Meter (process-wide, like any listener) and keeps what concerns
/// one test's streams: spans and measurements whose messaging.destination.name starts with <see cref="Prefix"/>.
/// </summary>
internal sealed class TelemetryCollector : IDisposable
{
    private readonly ActivityListener? _activities;
    private readonly MeterListener? _meters;

    public TelemetryCollector(string prefix, bool traces = true, bool metrics = true)
    {
        Prefix = prefix;
        if (traces)
        {
            _activities = new ActivityListener
            {
                ShouldListenTo = s => s.Name == StreamsTelemetry.ActivitySourceName || s.Name == TestSourceName,
                Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = a =>
                {
                    if (a.Source.Name == StreamsTelemetry.ActivitySourceName && a.GetTagItem("messaging.destination.name") is string d && d.StartsWith(Prefix, StringComparison.Ordinal))
                    {
                        Activities.Enqueue(a);
                    }
                },
            };
            ActivitySource.AddActivityListener(_activities);
        }

        if (metrics)
        {
            _meters = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (instrument.Meter.Name == StreamsTelemetry.MeterName)
                    {
                        Instruments[instrument.Name] = instrument;
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _meters.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
            _meters.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
            _meters.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
            _meters.Start();
        }
    }

    /// <summary>An application source for the "incoming HTTP request" around a publish.</summary>
    public const string TestSourceName = "Streams.Hosting.Tests";

    public static ActivitySource TestSource { get; } = new(TestSourceName);

    public string Prefix { get; }

    public ConcurrentQueue<Activity> Activities { get; } = new();

    public ConcurrentQueue<RecordedMeasurement> Measurements { get; } = new();

    public ConcurrentDictionary<string, Instrument> Instruments { get; } = new();

    public void RecordObservables() => _meters?.RecordObservableInstruments();

    public IReadOnlyList<RecordedMeasurement> Of(string name) => Measurements.Where(m => m.Name == name).ToList();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var dictionary = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            dictionary[tag.Key] = tag.Value;
        }

        if (dictionary.TryGetValue("messaging.destination.name", out var d) && d is string destination && destination.StartsWith(Prefix, StringComparison.Ordinal))
        {
            Measurements.Enqueue(new RecordedMeasurement(instrument, value, dictionary));
        }
    }

    public void Dispose()
    {
        _activities?.Dispose();
        _meters?.Dispose();
    }
}
