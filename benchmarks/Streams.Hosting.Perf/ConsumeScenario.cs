using Streams.Client;

namespace Streams.Hosting.Perf;

/// <summary>
/// <c>consume</c>: the raw client's <c>ReadAllAsync</c> (each delivery decoded, as the hosted path must) against a
/// hosted <see cref="CountingHandler"/>, alternating per round over the same stream (issue target: hosted ≥ 85%).
/// </summary>
internal static class ConsumeScenario
{
    private const double Target = 0.85;

    public static async Task<bool> RunAsync(PerfSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        Report.Section(output, "consume: raw Consumer.ReadAllAsync + DecodeMessage vs hosted IStreamHandler<byte[]>");
        await using var system = await Broker.ConnectAsync(settings, cancellationToken);
        await using var stream = await BenchStream.CreateAsync(system, "hosting-perf-consume", output, cancellationToken);
        await stream.FillAsync(settings.Messages, cancellationToken, settings.Properties ? Broker.OctetStream : null);

        var warmUp = Broker.ConsumeWarmUpMessages(settings);
        bool runRaw = settings.Only is null or "raw", runHosted = settings.Only is null or "hosted";
        for (var i = 0; i < settings.StartUps; i++)
        {
            if (runRaw)
            {
                await ConsumeRawAsync(system, stream.Name, Broker.StartUpMessages, settings.HandlerWork, cancellationToken);
            }

            if (runHosted)
            {
                await Broker.ConsumeHostedAsync(settings, stream.Name, $"perf-start-up-{Guid.NewGuid():N}", Broker.StartUpMessages, null, cancellationToken);
            }
        }

        for (var i = 0; i < settings.WarmUps; i++)
        {
            if (runRaw)
            {
                await ConsumeRawAsync(system, stream.Name, warmUp, settings.HandlerWork, cancellationToken);
            }

            if (runHosted)
            {
                await Broker.ConsumeHostedAsync(settings, stream.Name, $"perf-warm-up-{Guid.NewGuid():N}", warmUp, null, cancellationToken);
            }
        }

        if (!runRaw || !runHosted)
        {
            return await RunOneSideAsync(settings, system, stream.Name, output, cancellationToken);
        }

        output.WriteLine($"warm-up: raw and hosted started {settings.StartUps} times reading {Report.Count(Broker.StartUpMessages)} messages, then consumed {Report.Count(warmUp)} messages {settings.WarmUps} times each (not counted)");

        var expectedBytes = (long)settings.Messages * Broker.BodySize;
        var raw = new List<double>();
        var hosted = new List<double>();
        var rawCpu = new List<double>();
        var hostedCpu = new List<double>();
        var bytesMatch = true;
        for (var round = 1; round <= settings.Rounds; round++)
        {
            // The order alternates (raw first in odd rounds, hosted first in even ones), so that neither side always
            // runs right after the other.
            ConsumeRun rawRun = default, hostedRun = default;
            for (var turn = 0; turn < 2; turn++)
            {
                if ((turn == 0) == (round % 2 == 1))
                {
                    rawRun = await ConsumeRawAsync(system, stream.Name, settings.Messages, settings.HandlerWork, cancellationToken);
                    raw.Add(rawRun.Rate);
                    rawCpu.Add(rawRun.Resources.CpuNanosecondsPerMessage(settings.Messages));
                    Report.Line(output, $"round {round}", "raw", rawRun.Rate, $"{Report.Count(rawRun.Bytes)} B in {Report.Seconds(rawRun.Elapsed)}, {rawRun.Resources.Describe(settings.Messages)}");
                }
                else
                {
                    hostedRun = await Broker.ConsumeHostedAsync(settings, stream.Name, $"perf-consume-{round}-{Guid.NewGuid():N}", settings.Messages, null, cancellationToken);
                    hosted.Add(hostedRun.Rate);
                    hostedCpu.Add(hostedRun.Resources.CpuNanosecondsPerMessage(settings.Messages));
                    Report.Line(output, $"round {round}", "hosted", hostedRun.Rate, $"{Report.Count(hostedRun.Bytes)} B in {Report.Seconds(hostedRun.Elapsed)}, {hostedRun.Resources.Describe(settings.Messages)}");
                }
            }

            if (hostedRun.Bytes != expectedBytes || rawRun.Bytes != expectedBytes)
            {
                bytesMatch = false;
                output.WriteLine($"round {round}: BYTES DIFFER: raw {Report.Count(rawRun.Bytes)}, hosted {Report.Count(hostedRun.Bytes)}, expected {Report.Count(expectedBytes)}");
            }
        }

        double rawMedian = Report.Median(raw), hostedMedian = Report.Median(hosted), ratio = hostedMedian / rawMedian;
        Report.Line(output, "median", "raw", rawMedian, Report.Runs(raw));
        Report.Line(output, "median", "hosted", hostedMedian, $"{Report.Runs(hosted)}  = {Report.Percent(ratio)} of raw");
        double rawCpuMedian = Report.Median(rawCpu), hostedCpuMedian = Report.Median(hostedCpu);
        var paired = Report.Median(hosted.Zip(raw, (h, r) => h / r).ToList());
        output.WriteLine(Report.Invariant(
            $"median    of the per-round ratios (each hosted run against the raw run of its round): {Report.Percent(paired)}"));
        output.WriteLine(Report.Invariant(
            $"median    CPU per message (client process): raw {rawCpuMedian:F0} ns, hosted {hostedCpuMedian:F0} ns = raw's CPU is {rawCpuMedian / hostedCpuMedian:P1} of hosted's"));
        output.WriteLine(Report.Invariant(
            $"RESULT consume raw {Report.Rate(rawMedian)} hosted {Report.Rate(hostedMedian)} {Report.Percent(ratio)} (target {Target * 100:F0}%); CPU/msg raw {rawCpuMedian:F0} ns hosted {hostedCpuMedian:F0} ns{(bytesMatch ? string.Empty : " BYTE TOTALS DIFFER")}"));
        return bytesMatch;
    }

    /// <summary><c>--only raw|hosted</c>: one side's rounds, for a profiler (no ratio, no RESULT line).</summary>
    private static async Task<bool> RunOneSideAsync(PerfSettings settings, StreamSystem system, string stream, TextWriter output, CancellationToken cancellationToken)
    {
        var expectedBytes = (long)settings.Messages * Broker.BodySize;
        var ok = true;
        for (var round = 1; round <= settings.Rounds; round++)
        {
            var run = settings.Only == "raw"
                ? await ConsumeRawAsync(system, stream, settings.Messages, settings.HandlerWork, cancellationToken)
                : await Broker.ConsumeHostedAsync(settings, stream, $"perf-consume-{round}-{Guid.NewGuid():N}", settings.Messages, null, cancellationToken);
            ok &= run.Bytes == expectedBytes;
            Report.Line(output, $"round {round}", settings.Only!, run.Rate, $"{Report.Count(run.Bytes)} B in {Report.Seconds(run.Elapsed)}, {run.Resources.Describe(settings.Messages)}");
        }

        return ok;
    }

    /// <summary>A raw consumer from the first offset; the rate runs from the first delivery to the last.</summary>
    private static async Task<ConsumeRun> ConsumeRawAsync(StreamSystem system, string stream, int messages, TimeSpan work, CancellationToken cancellationToken)
    {
        var counter = new MessageCounter(messages, work);
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await Broker.SettleAsync(cancellationToken);
        await using var consumer = await system.CreateConsumerAsync(new ConsumerOptions(stream) { Offset = OffsetSpecification.First }, cancellationToken);
        await counter.WaitAsync(ReadAsync(consumer, counter, reading.Token), "raw consumer", Broker.StallTimeout, reading, cancellationToken);
        return counter.Result();
    }

    private static async Task ReadAsync(Consumer consumer, MessageCounter counter, CancellationToken cancellationToken)
    {
        await foreach (var delivery in consumer.ReadAllAsync(cancellationToken))
        {
            if (counter.Add(delivery.DecodeMessage().Body.Length))
            {
                return;
            }
        }
    }
}
