using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Streams.Hosting.Perf;

/// <summary>
/// <c>telemetry</c>: hosted consume throughput (<see cref="CountingHandler"/>) with nothing listening, with raw
/// <see cref="ActivityListener"/> + <see cref="MeterListener"/>, and with the OpenTelemetry SDK exporting to counting
/// exporters; the modes are interleaved within each round over the same stream.
/// </summary>
internal static class TelemetryScenario
{
    public static async Task<bool> RunAsync(PerfSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        Report.Section(output, $"telemetry: hosted consume with {string.Join(", ", settings.Modes)}{(settings.WorkMicroseconds > 0 ? $"; handler work {settings.WorkMicroseconds} µs per message" : string.Empty)}");
        await using var system = await Broker.ConnectAsync(settings, cancellationToken);
        await using var stream = await BenchStream.CreateAsync(system, "hosting-perf-telemetry", output, cancellationToken);
        await stream.FillAsync(settings.Messages, cancellationToken, settings.Properties ? Broker.OctetStream : null);

        var warmUp = Broker.ConsumeWarmUpMessages(settings);
        for (var i = 0; i < settings.StartUps; i++)
        {
            foreach (var mode in settings.Modes)
            {
                using var instrumentation = Instrumentation.Start(mode);
                await Broker.ConsumeHostedAsync(settings, stream.Name, $"perf-start-up-{mode}-{Guid.NewGuid():N}", Broker.StartUpMessages, null, cancellationToken, instrumentation.Hosting);
            }
        }

        for (var i = 0; i < settings.WarmUps; i++)
        {
            foreach (var mode in settings.Modes)
            {
                using var instrumentation = Instrumentation.Start(mode);
                await Broker.ConsumeHostedAsync(settings, stream.Name, $"perf-warm-up-{mode}-{Guid.NewGuid():N}", warmUp, null, cancellationToken, instrumentation.Hosting);
            }
        }

        output.WriteLine($"warm-up: every mode started {settings.StartUps} times reading {Report.Count(Broker.StartUpMessages)} messages, then consumed {Report.Count(warmUp)} messages {settings.WarmUps} times (not counted)");

        var expectedBytes = (long)settings.Messages * Broker.BodySize;
        var rates = settings.Modes.ToDictionary(m => m, _ => new List<double>());
        var ok = true;
        for (var round = 1; round <= settings.Rounds; round++)
        {
            foreach (var mode in settings.Modes)
            {
                ConsumeRun run;
                string observed;
                using (var instrumentation = Instrumentation.Start(mode))
                {
                    // The host's meters go with its container: the SDK exports what it holds before the host is disposed.
                    run = await Broker.ConsumeHostedAsync(
                        settings, stream.Name, $"perf-{mode}-{round}-{Guid.NewGuid():N}", settings.Messages, instrumentation.Flush, cancellationToken, instrumentation.Hosting);
                    observed = instrumentation.Describe(settings.Messages);
                }

                var match = run.Bytes == expectedBytes;
                ok &= match;
                rates[mode].Add(run.Rate);
                Report.Line(output, $"round {round}", mode, run.Rate, observed + (match ? string.Empty : $"  BYTES {Report.Count(run.Bytes)} (expected {Report.Count(expectedBytes)})"));
            }
        }

        var reference = settings.Modes.Contains("none") ? "none" : settings.Modes[0];
        var referenceMedian = Report.Median(rates[reference]);
        var summary = new List<string>();
        foreach (var (mode, values) in rates)
        {
            var median = Report.Median(values);
            var change = mode == reference ? "reference" : $"{Report.Change(median / referenceMedian)} vs {reference}";
            Report.Line(output, "median", mode, median, $"{change}  {Report.Runs(values)}");
            summary.Add(mode == reference ? $"{mode} {Report.Rate(median)}" : $"{mode} {Report.Rate(median)} ({Report.Change(median / referenceMedian)})");
        }

        output.WriteLine($"RESULT telemetry {string.Join(" ", summary)}{(ok ? string.Empty : " BYTE TOTALS DIFFER")}");
        return ok;
    }

    /// <summary>What listens during one run, and what it saw.</summary>
    private sealed class Instrumentation : IDisposable
    {
        private ActivityListener? _activityListener;
        private MeterListener? _meterListener;
        private TracerProvider? _tracerProvider;
        private MeterProvider? _meterProvider;
        private CountingActivityExporter? _spans;
        private CountingMetricExporter? _metrics;
        private long _activities;
        private long _measurements;
        private bool _listening;

        public static Instrumentation Start(string mode)
        {
            var instrumentation = new Instrumentation();
            switch (mode)
            {
                case "none":
                    break;
                case "listeners":
                    instrumentation.StartListeners();
                    break;
                case "otel-metrics":
                    instrumentation.StartMeterProvider();
                    break;
                case "otel":
                    instrumentation.StartTracerProvider(sampler: null);
                    instrumentation.StartMeterProvider();
                    break;
                case "otel-sampled":
                    instrumentation.StartTracerProvider(new ParentBasedSampler(new TraceIdRatioBasedSampler(0.01)));
                    instrumentation.StartMeterProvider();
                    break;
                case "otel-head-sampled":
                    // The hosting layer decides before creating an Activity: 1% of the messages (they carry no context).
                    instrumentation.Hosting = HeadSampled;
                    instrumentation.StartTracerProvider(sampler: null);
                    instrumentation.StartMeterProvider();
                    break;
                case "otel-traces-head-sampled":
                    instrumentation.Hosting = HeadSampled;
                    instrumentation.StartTracerProvider(sampler: null);
                    break;
                default:
                    throw new UsageException($"unknown telemetry mode '{mode}'");
            }

            return instrumentation;
        }

        /// <summary>The hosting layer's telemetry options for this mode (null: the defaults).</summary>
        public Action<StreamsTelemetryOptions>? Hosting { get; private set; }

        private static void HeadSampled(StreamsTelemetryOptions options)
        {
            options.ProcessTracing = ProcessTracing.Sampled;
            options.ProcessSamplingRatio = 0.01;
        }

        /// <summary>Exports what the SDK holds (spans, and the metrics while the host's meters still exist).</summary>
        public void Flush()
        {
            _tracerProvider?.ForceFlush();
            _meterProvider?.ForceFlush();
        }

        /// <summary>Spans and measurements seen; read after <see cref="Flush"/>.</summary>
        public string Describe(long messages)
        {
            var parts = new List<string>();
            if (_listening)
            {
                parts.Add($"activities {Report.Count(Interlocked.Read(ref _activities))}, measurements {Report.Count(Interlocked.Read(ref _measurements))}");
            }

            if (_spans is not null)
            {
                parts.Add($"spans exported {Report.Count(_spans.Spans)}");
            }

            if (_metrics is not null)
            {
                var consumed = _metrics.ConsumedMessages;
                parts.Add($"metric exports {Report.Count(_metrics.Exports)}, consumed.messages {Report.Count(consumed)}{(consumed == messages ? string.Empty : " (EXPECTED " + Report.Count(messages) + ")")}");
            }

            return string.Join(", ", parts);
        }

        public void Dispose()
        {
            _activityListener?.Dispose();
            _meterListener?.Dispose();
            _tracerProvider?.Dispose();
            _meterProvider?.Dispose();
        }

        private void StartListeners()
        {
            _listening = true;
            _activityListener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == StreamsTelemetry.ActivitySourceName,
                Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _ => Interlocked.Increment(ref _activities),
            };
            ActivitySource.AddActivityListener(_activityListener);
            _meterListener = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (instrument.Meter.Name == StreamsTelemetry.MeterName)
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _meterListener.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref _measurements));
            _meterListener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref _measurements));
            _meterListener.Start();
        }

        private void StartTracerProvider(Sampler? sampler)
        {
            _spans = new CountingActivityExporter();
            var builder = Sdk.CreateTracerProviderBuilder().AddRabbitStreamsInstrumentation();
            if (sampler is not null)
            {
                builder.SetSampler(sampler);
            }

            _tracerProvider = builder.AddProcessor(new BatchActivityExportProcessor(_spans)).Build();
        }

        private void StartMeterProvider()
        {
            _metrics = new CountingMetricExporter();
            _meterProvider = Sdk.CreateMeterProviderBuilder().AddRabbitStreamsInstrumentation()
                .AddReader(new PeriodicExportingMetricReader(_metrics, 1000)).Build();
        }
    }
}
