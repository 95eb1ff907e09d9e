using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Client;

namespace Streams.Hosting.Perf;

/// <summary>Raw connections, throw-away streams and hosts, all against <see cref="PerfSettings.Uri"/>.</summary>
internal static class Broker
{
    public const int BodySize = 100;

    /// <summary>The content type of <c>--properties true</c>: what <c>IStreamPublisher</c> sets on a <c>byte[]</c> body.</summary>
    public const string OctetStream = "application/octet-stream";

    /// <summary>No message counted for this long fails the run instead of hanging.</summary>
    public static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(30);

    public static Task<StreamSystem> ConnectAsync(PerfSettings settings, CancellationToken cancellationToken)
    {
        var options = StreamSystemOptions.FromUri(settings.Uri);
        options.ConnectionName = "streams-hosting-perf-raw";
        return StreamSystem.ConnectAsync(options, cancellationToken);
    }

    /// <summary>A host as an application builds it, with <c>AddRabbitStreams</c> and whatever <paramref name="configure"/> adds.</summary>
    public static IHost BuildHost(PerfSettings settings, Action<IServiceCollection, IRabbitStreamsBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var streams = builder.Services.AddRabbitStreams(o =>
        {
            o.ConnectionString = settings.Uri;
            o.ConnectionName = "streams-hosting-perf-hosted";
        });
        configure?.Invoke(builder.Services, streams);
        return builder.Build();
    }

    /// <summary>
    /// Messages consumed per side or mode in each warm-up run: the whole stream, because the first complete read of a
    /// freshly written stream is markedly slower (for raw and hosted alike) than the following ones.
    /// </summary>
    public static int ConsumeWarmUpMessages(PerfSettings settings) => settings.Messages;

    /// <summary>
    /// Consumes <paramref name="messages"/> from the first offset with a fresh host whose only consumer is
    /// <see cref="CountingHandler"/> under the unique name <paramref name="consumerName"/>; the rate runs from the first
    /// message to the last (host start and subscription are not measured). <paramref name="afterStop"/> runs once the
    /// host has stopped, before it is disposed (its meters still exist).
    /// </summary>
    public static async Task<ConsumeRun> ConsumeHostedAsync(
        PerfSettings settings, string stream, string consumerName, int messages, Action? afterStop, CancellationToken cancellationToken,
        Action<StreamsTelemetryOptions>? telemetry = null)
    {
        var counter = new MessageCounter(messages, settings.HandlerWork);
        using var host = BuildHost(settings, (services, streams) =>
        {
            services.AddSingleton(counter);
            if (telemetry is not null)
            {
                streams.ConfigureTelemetry(telemetry);
            }

            void Configure(StreamConsumerOptions c)
            {
                c.Stream = stream;
                c.Name = consumerName;
                c.Offset = OffsetSpecification.First;
            }

            if (settings.Batch)
            {
                streams.AddConsumer<CountingBatchHandler>(Configure);
            }
            else
            {
                streams.AddConsumer<CountingHandler>(Configure);
            }
        });
        await SettleAsync(cancellationToken);
        await host.StartAsync(cancellationToken);
        try
        {
            await counter.WaitAsync(counter.Done, $"hosted consumer '{consumerName}'", StallTimeout, null, cancellationToken);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }

        afterStop?.Invoke();
        return counter.Result();
    }

    /// <summary>Messages read by each start-up run (<see cref="PerfSettings.StartUps"/>).</summary>
    public const int StartUpMessages = 1_000;

    /// <summary>How long the JIT must have compiled nothing before a measured run starts (at most <see cref="JitIdleLimit"/>).</summary>
    private static readonly TimeSpan JitQuiet = TimeSpan.FromMilliseconds(300);

    private static readonly TimeSpan JitIdleLimit = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Collects garbage left by the previous run so that it is not charged to the next one, then waits until the JIT's
    /// background compiler is idle, so that compilation queued by earlier code does not run in the measured window.
    /// </summary>
    public static async Task SettleAsync(CancellationToken cancellationToken)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var started = TimeProvider.System.GetTimestamp();
        var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
        var quietSince = started;
        while (TimeProvider.System.GetElapsedTime(quietSince) < JitQuiet && TimeProvider.System.GetElapsedTime(started) < JitIdleLimit)
        {
            await Task.Delay(50, cancellationToken);
            var now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now != compiled)
            {
                compiled = now;
                quietSince = TimeProvider.System.GetTimestamp();
            }
        }
    }
}

/// <summary>A uniquely named stream, deleted on dispose.</summary>
internal sealed class BenchStream(StreamSystem system, string name, TextWriter output) : IAsyncDisposable
{
    public string Name => name;

    public static async Task<BenchStream> CreateAsync(StreamSystem system, string prefix, TextWriter output, CancellationToken cancellationToken)
    {
        var name = $"{prefix}-{Guid.NewGuid():N}";
        await system.CreateStreamAsync(name, null, cancellationToken);
        return new BenchStream(system, name, output);
    }

    /// <summary>
    /// Publishes <paramref name="messages"/> AMQP messages of <see cref="Broker.BodySize"/> bytes in batches of 1000: a body
    /// alone, or with <paramref name="contentType"/> in a properties section (as <c>IStreamPublisher</c> writes bodies).
    /// </summary>
    public async Task FillAsync(int messages, CancellationToken cancellationToken, string? contentType = null)
    {
        var started = TimeProvider.System.GetTimestamp();
        var body = new byte[Broker.BodySize];
        var batch = Enumerable.Range(0, 1000)
            .Select(_ => contentType is null ? new Message(body) : new Message(body) { Properties = new MessageProperties { ContentType = contentType } })
            .ToArray();
        await using (var producer = await system.CreateProducerAsync(new ProducerOptions(name), cancellationToken))
        {
            for (var sent = 0; sent < messages; sent += batch.Length)
            {
                await producer.SendBatchAsync(messages - sent >= batch.Length ? batch : batch[..(messages - sent)], cancellationToken);
            }
        }

        output.WriteLine($"stream {name}: {Report.Count(messages)} messages{(contentType is null ? " (a body alone)" : $" (content type {contentType})")} published in {Report.Seconds(TimeProvider.System.GetElapsedTime(started))}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await system.DeleteStreamAsync(name, timeout.Token);
        }
        catch (Exception ex) when (ex is StreamClientException or OperationCanceledException)
        {
            await output.WriteLineAsync($"warning: stream {name} was not deleted: {ex.Message}");
        }
    }
}
