using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Streams.Client;
using Streams.Hosting.Internal;
using Streams.Hosting.Telemetry;

namespace Streams.Hosting.Tests.Telemetry;

/// <summary>
/// CPU cost of the consumer hook per handler invocation, without the broker (the broker-bound throughput runs are too
/// noisy on a shared machine to resolve a few percent). Explicit; reports ns per invocation, asserts no timing.
/// </summary>
public sealed class HotPathCostTests
{
    private const int Iterations = 2_000_000;

    private sealed class NoopHandler : IStreamHandler<byte[]>
    {
        public Task HandleAsync(byte[] message, StreamContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [Fact(Explicit = true)]
    public void Cost_per_invocation_with_and_without_listeners()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var instrumentation = new StreamsInstrumentation(services.GetRequiredService<IMeterFactory>(), Options.Create(new StreamsTelemetryOptions()), TimeProvider.System);
        var telemetry = instrumentation.AddConsumer(typeof(NoopHandler), "perf", null, "perf", () => null!);
        var headSampling = new StreamsInstrumentation(
            services.GetRequiredService<IMeterFactory>(), Options.Create(new StreamsTelemetryOptions { ProcessTracing = ProcessTracing.Sampled, ProcessSamplingRatio = 0.01 }), TimeProvider.System);
        var headSampled = headSampling.AddConsumer(typeof(NoopHandler), "perf", null, "perf", () => null!);
        var invoker = HandlerInvoker.Create(typeof(byte[]));
        var handler = new NoopHandler();
        var body = new byte[100];
        var context = new StreamContext { Stream = "perf", Offset = 42, ConsumerName = "perf", RawMessage = new Message(body) };

        double Direct() => Measure(() => invoker.InvokeAsync(handler, body, context, CancellationToken.None));
        double Hooked() => Measure(() => telemetry.InvokeAsync(invoker, handler, body, context, CancellationToken.None));

        var results = new Dictionary<string, double>();
        void Run(string mode, Func<double> run)
        {
            var best = double.MaxValue;
            for (var i = 0; i < 5; i++)
            {
                best = Math.Min(best, run());
            }

            results[mode] = best;
        }

        Run("direct", Direct);
        Run("hook, nothing listening", Hooked);

        using (var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == StreamsTelemetry.ActivitySourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        })
        using (var meters = new MeterListener { InstrumentPublished = (i, l) => { if (i.Meter.Name == StreamsTelemetry.MeterName) { l.EnableMeasurementEvents(i); } } })
        {
            ActivitySource.AddActivityListener(listener);
            meters.SetMeasurementEventCallback<double>((_, _, _, _) => { });
            meters.Start();
            Run("hook, ActivityListener + MeterListener", Hooked);
            Run("reference: bare Activity start+stop, no tags", () => Measure(() =>
            {
                StreamsActivitySource.Source.StartActivity("process perf", ActivityKind.Consumer)?.Dispose();
                return Task.CompletedTask;
            }));
            Run("reference: StartProcess + stop", () => Measure(() =>
            {
                var previous = Activity.Current;
                StreamsActivitySource.StartProcess("process perf", StreamsActivitySource.ProcessSpanTags("perf", null, "perf"), context, ProcessSpanRelation.Link, null)?.Dispose();
                Activity.Current = previous;
                return Task.CompletedTask;
            }));
        }

        using (Sdk.CreateMeterProviderBuilder().AddRabbitStreamsInstrumentation().AddReader(new PeriodicExportingMetricReader(new OpenTelemetry.Exporter.InMemoryExporter<Metric>(new List<Metric>()), 1000)).Build())
        {
            Run("hook, OpenTelemetry SDK metrics", Hooked);
            using (Sdk.CreateTracerProviderBuilder().AddRabbitStreamsInstrumentation().AddProcessor(new BatchActivityExportProcessor(new CountingActivityExporter())).Build())
            {
                Run("hook, OpenTelemetry SDK metrics + traces", Hooked);
            }

            using (Sdk.CreateTracerProviderBuilder().AddRabbitStreamsInstrumentation().SetSampler(new TraceIdRatioBasedSampler(0.01)).AddProcessor(new BatchActivityExportProcessor(new CountingActivityExporter())).Build())
            {
                Run("hook, OpenTelemetry SDK metrics + traces sampled 1%", Hooked);
            }

            using (Sdk.CreateTracerProviderBuilder().AddRabbitStreamsInstrumentation().AddProcessor(new BatchActivityExportProcessor(new CountingActivityExporter())).Build())
            {
                Run("hook, OpenTelemetry SDK metrics + traces, ProcessTracing.Sampled 1%", () => Measure(() => headSampled.InvokeAsync(invoker, handler, body, context, CancellationToken.None)));
            }
        }

        var report = string.Join("; ", results.Select(r => $"{r.Key}: {r.Value:0.0} ns"));
        TestContext.Current.SendDiagnosticMessage("HOTPATH " + report);
        Console.WriteLine("HOTPATH " + report);
        GC.KeepAlive(telemetry);
    }

    [Fact(Explicit = true)]
    public void Cost_of_the_dispatch_steps_per_message()
    {
        using var services = new ServiceCollection().AddMetrics().AddSingleton<Counter>().BuildServiceProvider();
        var instrumentation = new StreamsInstrumentation(services.GetRequiredService<IMeterFactory>(), Options.Create(new StreamsTelemetryOptions()), TimeProvider.System);
        var telemetry = instrumentation.AddConsumer(typeof(NoopHandler), "perf", null, "perf", () => null!);
        var invoker = HandlerInvoker.Create(typeof(byte[]));
        var serialization = new MessageSerialization([]);
        var factory = ActivatorUtilities.CreateFactory(typeof(CountingNoop), [typeof(Counter)]);
        object[] arguments = [services.GetRequiredService<Counter>()];
        var source = new StreamContext.Source("perf", null, "perf");
        var body = new byte[100];
        var message = new Message(body);
        var handler = factory(services, arguments);
        var context = new StreamContext(source, 1, DateTimeOffset.UnixEpoch, 1, message);
        var results = new Dictionary<string, double>();
        void Run(string step, Func<Task> step1) => results[step] = Enumerable.Range(0, 5).Min(_ => Measure(step1));

        Run("handler activation (factory with singletons)", () => { _ = factory(services, arguments); return Task.CompletedTask; });
        Run("StreamContext", () => { _ = new StreamContext(source, 1, DateTimeOffset.UnixEpoch, 1, message); return Task.CompletedTask; });
        Run("Deserialize byte[]", () => { _ = invoker.Deserialize(serialization, message); return Task.CompletedTask; });
        Run("invoke direct", () => invoker.InvokeAsync(handler, body, context, CancellationToken.None));
        Run("invoke through the telemetry hook", () => telemetry.InvokeAsync(invoker, handler, body, context, CancellationToken.None));
        Run("all of the above", () =>
        {
            var h = factory(services, arguments);
            var m = invoker.Deserialize(serialization, message);
            return telemetry.InvokeAsync(invoker, h, m, new StreamContext(source, 1, DateTimeOffset.UnixEpoch, 1, message), CancellationToken.None);
        });

        var report = string.Join("; ", results.Select(r => $"{r.Key}: {r.Value:0.0} ns"));
        TestContext.Current.SendDiagnosticMessage("DISPATCH " + report);
        Console.WriteLine("DISPATCH " + report);
        GC.KeepAlive(telemetry);
    }

    private sealed class Counter
    {
        public long Count;
    }

    private sealed class CountingNoop(Counter counter) : IStreamHandler<byte[]>
    {
        public Task HandleAsync(byte[] message, StreamContext context, CancellationToken cancellationToken)
        {
            counter.Count++;
            return Task.CompletedTask;
        }
    }

    private static double Measure(Func<Task> invoke)
    {
        for (var i = 0; i < 10_000; i++)
        {
            _ = invoke();
        }

        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < Iterations; i++)
        {
            _ = invoke();
        }

        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / Iterations;
    }
}
