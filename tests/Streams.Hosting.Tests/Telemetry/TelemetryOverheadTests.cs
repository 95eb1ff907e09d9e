using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Streams.Client;
using Streams.Hosting.Tests.Integration;
using Streams.Testing;

namespace Streams.Hosting.Tests.Telemetry;

/// <summary>
/// Consume throughput with the instrumentation and nothing listening, with raw listeners, and with the OpenTelemetry
/// SDK exporting (issue 6: ≤ 3% and ≤ 15%). Explicit; reports figures, asserts no timing.
/// Run: <c>dotnet test -c Release tests/Streams.Hosting.Tests -- --explicit only --filter-class *TelemetryOverheadTests</c>.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class TelemetryOverheadTests(BrokerFixture broker)
{
    private static readonly int Messages = int.TryParse(Environment.GetEnvironmentVariable("PERF_MESSAGES"), out var n) ? n : 300_000;
    private static readonly int Rounds = int.TryParse(Environment.GetEnvironmentVariable("PERF_ROUNDS"), out var r) ? r : 3;

    [Fact(Explicit = true)]
    public async Task Consume_throughput_with_and_without_listeners()
    {
        var ct = TestContext.Current.CancellationToken;
        var stream = BrokerFixture.UniqueName("otel-perf");
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        await system.CreateStreamAsync(stream, null, ct);
        var body = new byte[100];
        await using (var producer = await system.CreateProducerAsync(new ProducerOptions(stream), ct))
        {
            var batch = Enumerable.Range(0, 1000).Select(_ => new Message(body)).ToArray();
            for (var i = 0; i < Messages / 1000; i++)
            {
                await producer.SendBatchAsync(batch, ct);
            }
        }

        var rates = new Dictionary<string, List<double>> { ["none"] = [], ["listeners"] = [], ["otel-sdk"] = [], ["otel-traces"] = [], ["otel-metrics"] = [] };
        for (var round = 0; round < Rounds; round++)
        {
            foreach (var mode in rates.Keys)
            {
                rates[mode].Add(await MeasureAsync(stream, $"{mode}-{round}", mode, ct));
            }
        }

        var none = Median(rates["none"]);
        var report = string.Join("; ", rates.Select(kv => $"{kv.Key} {Median(kv.Value):N0}/s ({Median(kv.Value) / none - 1:+0.0%;-0.0%}) [{string.Join(", ", kv.Value.Select(v => v.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)))}]"));
        TestContext.Current.SendDiagnosticMessage("TELEMETRY " + report);
        Console.WriteLine($"TELEMETRY consume {Messages:N0} x{Rounds}: {report}");
    }

    private async Task<double> MeasureAsync(string stream, string name, string mode, CancellationToken ct)
    {
        ActivityListener? activityListener = null;
        MeterListener? meterListener = null;
        TracerProvider? tracerProvider = null;
        MeterProvider? meterProvider = null;
        long observed = 0;
        if (mode == "listeners")
        {
            activityListener = new ActivityListener
            {
                ShouldListenTo = s => s.Name == StreamsTelemetry.ActivitySourceName,
                Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _ => Interlocked.Increment(ref observed),
            };
            ActivitySource.AddActivityListener(activityListener);
            meterListener = new MeterListener { InstrumentPublished = (i, l) => { if (i.Meter.Name == StreamsTelemetry.MeterName) { l.EnableMeasurementEvents(i); } } };
            meterListener.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref observed));
            meterListener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref observed));
            meterListener.Start();
        }
        else if (mode.StartsWith("otel", StringComparison.Ordinal))
        {
            if (mode != "otel-metrics")
            {
                tracerProvider = Sdk.CreateTracerProviderBuilder().AddRabbitStreamsInstrumentation()
                    .AddProcessor(new BatchActivityExportProcessor(new TestActivityExporter(keep: false))).Build();
            }

            if (mode != "otel-traces")
            {
                meterProvider = Sdk.CreateMeterProviderBuilder().AddRabbitStreamsInstrumentation()
                    .AddReader(new PeriodicExportingMetricReader(new TestMetricExporter(), 1000)).Build();
            }
        }

        try
        {
            var counter = new PerfCounter { Target = Messages };
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Services.AddSingleton(counter);
            builder.Services.AddRabbitStreams(o => TestHost.Apply(broker.Endpoint, o))
                .AddConsumer<CountingHandler>(c => { c.Stream = stream; c.Name = name; c.Offset = OffsetSpecification.First; });
            using var host = builder.Build();
            await host.StartAsync(ct);
            await counter.Done.Task.WaitAsync(TimeSpan.FromMinutes(5), ct);
            await host.StopAsync(ct);
            return (Messages - 1) / Stopwatch.GetElapsedTime(counter.FirstTicks, counter.LastTicks).TotalSeconds;
        }
        finally
        {
            activityListener?.Dispose();
            meterListener?.Dispose();
            tracerProvider?.Dispose();
            meterProvider?.Dispose();
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
