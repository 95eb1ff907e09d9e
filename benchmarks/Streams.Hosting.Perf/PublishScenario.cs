using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Streams.Client;

namespace Streams.Hosting.Perf;

/// <summary>
/// <c>publish</c>: 64 truly concurrent callers (one <see cref="Task"/> each, not capped at the core count as
/// <c>Parallel.ForAsync</c> would) awaiting every message's confirm: the raw <c>Producer.SendAsync</c> against
/// <c>IStreamPublisher.PublishAsync</c>, alternating per round (issue target: hosted ≥ 80%). Both producers are
/// created and warmed up with one message before the first round, so neither side measures producer creation.
/// </summary>
internal static class PublishScenario
{
    private const int Callers = 64;
    private const double Target = 0.80;

    public static async Task<bool> RunAsync(PerfSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        Report.Section(output, $"publish: {Callers} concurrent callers, raw Producer.SendAsync(Message) vs IStreamPublisher.PublishAsync(byte[])");
        var perCaller = Math.Max(1, settings.Messages / 5 / Callers);
        var total = perCaller * Callers;
        output.WriteLine($"{Report.Count(total)} messages per side per round ({Callers} callers x {Report.Count(perCaller)})");

        await using var system = await Broker.ConnectAsync(settings, cancellationToken);
        await using var stream = await BenchStream.CreateAsync(system, "hosting-perf-publish", output, cancellationToken);
        var body = new byte[Broker.BodySize];

        await using var producer = await system.CreateProducerAsync(new ProducerOptions(stream.Name), cancellationToken);
        await producer.SendAsync(new Message(body), cancellationToken);
        using var host = Broker.BuildHost(settings);
        await host.StartAsync(cancellationToken);
        try
        {
            var publisher = host.Services.GetRequiredService<IStreamPublisher>();
            await publisher.PublishAsync(stream.Name, body, cancellationToken);

            var warmUp = Math.Max(1, perCaller / 10);
            await MeasureAsync(warmUp * Callers, warmUp, () => producer.SendAsync(new Message(body), cancellationToken));
            await MeasureAsync(warmUp * Callers, warmUp, () => publisher.PublishAsync(stream.Name, body, cancellationToken));
            output.WriteLine($"warm-up: raw and hosted published {Report.Count(warmUp * Callers)} messages each (not counted)");

            var raw = new List<double>();
            var hosted = new List<double>();
            for (var round = 1; round <= settings.Rounds; round++)
            {
                var rawRate = await MeasureAsync(total, perCaller, () => producer.SendAsync(new Message(body), cancellationToken));
                raw.Add(rawRate);
                Report.Line(output, $"round {round}", "raw", rawRate);
                var hostedRate = await MeasureAsync(total, perCaller, () => publisher.PublishAsync(stream.Name, body, cancellationToken));
                hosted.Add(hostedRate);
                Report.Line(output, $"round {round}", "hosted", hostedRate);
            }

            double rawMedian = Report.Median(raw), hostedMedian = Report.Median(hosted), ratio = hostedMedian / rawMedian;
            Report.Line(output, "median", "raw", rawMedian, Report.Runs(raw));
            Report.Line(output, "median", "hosted", hostedMedian, $"{Report.Runs(hosted)}  = {Report.Percent(ratio)} of raw");
            output.WriteLine(Report.Invariant(
                $"RESULT publish x{Callers} raw {Report.Rate(rawMedian)} hosted {Report.Rate(hostedMedian)} {Report.Percent(ratio)} (target {Target * 100:F0}%)"));
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }

        return true;
    }

    /// <summary>Messages per second for <see cref="Callers"/> concurrent loops of <paramref name="perCaller"/> awaited publishes.</summary>
    private static async Task<double> MeasureAsync(int total, int perCaller, Func<Task> publish)
    {
        await Broker.SettleAsync(CancellationToken.None);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(async _ =>
        {
            for (var i = 0; i < perCaller; i++)
            {
                await publish();
            }
        }));
        return total / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }
}
