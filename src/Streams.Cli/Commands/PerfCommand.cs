using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Streams.Client;

namespace Streams.Cli.Commands;

/// <summary>
/// <c>streams perf publish|consume|latency</c>: throughput and latency of this client against a broker.
/// <c>publish</c> and <c>latency</c> delete and re-create their stream first; <c>consume</c> reads the stream
/// <c>publish</c> left. The last line is <c>RESULT workload=… msgs=… seconds=… …</c>.
/// </summary>
internal static class PerfCommand
{
    public const string DefaultStream = "streams-perf";
    private static readonly string[] ValueOptions = [Connection.UriOption, "count", "size", "rate", "stream", "sub-entry", "compression"];
    private static readonly string[] FlagOptions = ["amqp"];

    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        if (args.Length == 0)
        {
            throw new UsageException("perf needs a workload: publish, consume or latency");
        }

        var arguments = Arguments.Parse(args.AsSpan(1).ToArray(), ValueOptions, FlagOptions);
        var settings = new PerfSettings(
            Workload: args[0],
            Count: arguments.Int64("count", args[0] == "latency" ? 100_000 : 1_000_000, min: 1),
            Size: (int)arguments.Int64("size", 100, min: 9, max: 1_000_000),
            Rate: arguments.Int64("rate", args[0] == "latency" ? 20_000 : 0, min: 0),
            Amqp: arguments.Flag("amqp"),
            Stream: arguments.Value("stream") ?? (args[0] == "latency" ? DefaultStream + "-latency" : DefaultStream),
            SubEntry: (int)arguments.Int64("sub-entry", 0, min: 0, max: ushort.MaxValue),
            Compression: ParseCompression(arguments.Value("compression")));
        if (settings.SubEntry > 0 && settings.Workload != "publish")
        {
            throw new UsageException("--sub-entry applies to perf publish only");
        }

        if (settings.SubEntry > 0 && settings.Amqp)
        {
            throw new UsageException("--sub-entry publishes raw bodies; it cannot be combined with --amqp");
        }

        await using var system = await Connection.ConnectAsync(arguments, cancellationToken).ConfigureAwait(false);
        var result = settings.Workload switch
        {
            "publish" => await PublishAsync(system, settings, cancellationToken).ConfigureAwait(false),
            "consume" => await ConsumeAsync(system, settings, cancellationToken).ConfigureAwait(false),
            "latency" => await LatencyAsync(system, settings, cancellationToken).ConfigureAwait(false),
            var other => throw new UsageException($"unknown perf workload '{other}' (publish, consume, latency)"),
        };
        await output.WriteLineAsync(result).ConfigureAwait(false);
        return 0;
    }

    private static async Task RecreateAsync(StreamSystem system, string stream, CancellationToken ct)
    {
        if (await system.StreamExistsAsync(stream, ct).ConfigureAwait(false))
        {
            await system.DeleteStreamAsync(stream, ct).ConfigureAwait(false);
        }

        await system.CreateStreamAsync(stream, new StreamSpec { MaxLengthBytes = 2_000_000_000 }, ct).ConfigureAwait(false);
    }

    private static CompressionType ParseCompression(string? value) => value?.ToLowerInvariant() switch
    {
        null or "none" => CompressionType.None,
        "gzip" => CompressionType.Gzip,
        var other => throw new UsageException($"unknown --compression '{other}' (none, gzip)"),
    };

    /// <summary>
    /// Publishes <c>count</c> messages as sub-entry batches of <c>--sub-entry</c> messages (one publishing id and one
    /// chunk entry per batch, compressed with <c>--compression</c>), keeping many batches in flight.
    /// </summary>
    private static async Task<string> PublishSubEntriesAsync(StreamSystem system, PerfSettings s, CancellationToken ct)
    {
        await RecreateAsync(system, s.Stream, ct).ConfigureAwait(false);
        var producerOptions = new ProducerOptions(s.Stream);
        await using var producer = await system.CreateProducerAsync(producerOptions, ct).ConfigureAwait(false);
        var body = new byte[s.Size];
        Random.Shared.NextBytes(body);
        long batches = (s.Count + s.SubEntry - 1) / s.SubEntry;
        var full = Enumerable.Repeat((ReadOnlyMemory<byte>)body, s.SubEntry).ToArray();
        var inflight = new Queue<Task>();
        const int MaxInflightBatches = 2_000;

        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        var pacer = new Pacer(s.Rate / s.SubEntry);
        long sent = 0;
        for (long b = 0; b < batches; b++)
        {
            await pacer.WaitAsync(b, ct).ConfigureAwait(false);
            int n = (int)Math.Min(s.SubEntry, s.Count - sent);
            var batch = n == s.SubEntry ? full : full[..n];
            inflight.Enqueue(producer.SendSubEntryAsync(batch, s.Compression, ct));
            sent += n;
            if (inflight.Count >= MaxInflightBatches)
            {
                await inflight.Dequeue().ConfigureAwait(false);
            }
        }

        while (inflight.TryDequeue(out var task))
        {
            await task.ConfigureAwait(false);
        }

        watch.Stop();
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        return Throughput($"publish-sub-entry-{s.SubEntry}-{s.Compression.ToString().ToLowerInvariant()}", s.Count, watch.Elapsed, allocated);
    }

    private static async Task<string> PublishAsync(StreamSystem system, PerfSettings s, CancellationToken ct)
    {
        if (s.SubEntry > 0)
        {
            return await PublishSubEntriesAsync(system, s, ct).ConfigureAwait(false);
        }

        await RecreateAsync(system, s.Stream, ct).ConfigureAwait(false);
        var producerOptions = new ProducerOptions(s.Stream);
        await using var producer = await system.CreateProducerAsync(producerOptions, ct).ConfigureAwait(false);
        var body = new byte[s.Size];
        Random.Shared.NextBytes(body);
        var message = s.Amqp ? PerfMessage(body) : null;
        var tracker = new ConfirmTracker(s.Count, producerOptions.ConfirmTimeout);
        Action<Confirmation> onConfirm = tracker.OnConfirm;
        ReadOnlyMemory<byte> raw = body;

        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        var pacer = new Pacer(s.Rate);
        for (long i = 0; i < s.Count; i++)
        {
            await pacer.WaitAsync(i, ct).ConfigureAwait(false);
            if (message is not null)
            {
                await producer.Send(message, onConfirm, ct).ConfigureAwait(false);
            }
            else
            {
                await producer.Send(raw, onConfirm, ct).ConfigureAwait(false);
            }
        }

        await tracker.Completion.WaitAsync(ct).ConfigureAwait(false);
        watch.Stop();
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        if (tracker.Failed > 0)
        {
            throw new StreamClientException($"{tracker.Failed} messages were not confirmed: {tracker.FirstError}");
        }

        return Throughput(s.Amqp ? "publish-amqp" : "publish", s.Count, watch.Elapsed, allocated);
    }

    private static async Task<string> ConsumeAsync(StreamSystem system, PerfSettings s, CancellationToken ct)
    {
        if (!await system.StreamExistsAsync(s.Stream, ct).ConfigureAwait(false))
        {
            throw new UsageException($"stream '{s.Stream}' does not exist: run `streams perf publish` first");
        }

        long received = 0;
        long allocated = 0;
        var warmUp = Math.Max(1, s.Count / 10);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new ConsumerOptions(s.Stream)
        {
            Offset = OffsetSpecification.First,
            Handler = (_, _) =>
            {
                // Allocations are counted after a warm-up of a tenth of the messages: connection set-up and the
                // pooled buffers of the credit window (a fixed cost per consumer, not per message) are left out.
                if (++received == warmUp)
                {
                    allocated = GC.GetTotalAllocatedBytes(precise: true);
                }

                if (received == s.Count)
                {
                    done.TrySetResult();
                }

                return ValueTask.CompletedTask;
            },
        };

        var watch = Stopwatch.StartNew();
        await using (var consumer = await system.CreateConsumerAsync(options, ct).ConfigureAwait(false))
        {
            await WaitWithIdleTimeoutAsync(done.Task, () => Volatile.Read(ref received), s, ct).ConfigureAwait(false);
            watch.Stop();
            allocated = GC.GetTotalAllocatedBytes(precise: true) - Volatile.Read(ref allocated);
        }

        return Throughput("consume", s.Count, watch.Elapsed, allocated, measured: s.Count - warmUp + 1);
    }

    private static async Task<string> LatencyAsync(StreamSystem system, PerfSettings s, CancellationToken ct)
    {
        await RecreateAsync(system, s.Stream, ct).ConfigureAwait(false);
        var latencies = new long[s.Count];
        long received = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumerOptions = new ConsumerOptions(s.Stream)
        {
            Offset = OffsetSpecification.First,
            Handler = (delivery, _) =>
            {
                var now = Stopwatch.GetTimestamp();
                var body = delivery.Body.Span;
                if (body.Length >= 8 && received < latencies.Length)
                {
                    latencies[received] = now - BinaryPrimitives.ReadInt64LittleEndian(body);
                    if (++received == latencies.Length)
                    {
                        done.TrySetResult();
                    }
                }

                return ValueTask.CompletedTask;
            },
        };

        await using var consumer = await system.CreateConsumerAsync(consumerOptions, ct).ConfigureAwait(false);
        var producerOptions = new ProducerOptions(s.Stream);
        await using var producer = await system.CreateProducerAsync(producerOptions, ct).ConfigureAwait(false);
        var tracker = new ConfirmTracker(s.Count, producerOptions.ConfirmTimeout);
        var sent = new long[s.Count];
        var confirmLatencies = new long[s.Count];
        var firstId = producer.NextPublishingId;
        Action<Confirmation> onConfirm = confirmation =>
        {
            var index = (long)(confirmation.PublishingId - firstId);
            if (index >= 0 && index < sent.Length)
            {
                confirmLatencies[index] = Stopwatch.GetTimestamp() - sent[index];
            }

            tracker.OnConfirm(confirmation);
        };
        var pacer = new Pacer(s.Rate);
        var body = new byte[s.Size];
        var watch = Stopwatch.StartNew();
        for (long i = 0; i < s.Count; i++)
        {
            await pacer.WaitAsync(i, ct).ConfigureAwait(false);
            // The producer copies the body into its Publish frame during Send, so one buffer serves every message.
            var now = Stopwatch.GetTimestamp();
            BinaryPrimitives.WriteInt64LittleEndian(body, now);
            sent[i] = now;
            await producer.Send(body, onConfirm, ct).ConfigureAwait(false);
        }

        await WaitWithIdleTimeoutAsync(done.Task, () => Volatile.Read(ref received), s, ct).ConfigureAwait(false);
        await tracker.Completion.WaitAsync(ct).ConfigureAwait(false);
        watch.Stop();
        return string.Create(CultureInfo.InvariantCulture,
            $"RESULT workload=latency msgs={s.Count} seconds={watch.Elapsed.TotalSeconds:F3} rate={s.Rate} confirm_p50_us={Percentile(confirmLatencies, 0.50):F0} confirm_p99_us={Percentile(confirmLatencies, 0.99):F0} p50_us={Percentile(latencies, 0.50):F0} p99_us={Percentile(latencies, 0.99):F0}");
    }

    /// <summary>Waits for <paramref name="done"/>, failing when no progress is made for 15 s.</summary>
    private static async Task WaitWithIdleTimeoutAsync(Task done, Func<long> progress, PerfSettings s, CancellationToken ct)
    {
        var last = -1L;
        while (!done.IsCompleted)
        {
            var now = progress();
            if (now == last)
            {
                throw new StreamClientException($"{s.Workload}: stalled at {now} of {s.Count} messages on stream '{s.Stream}'");
            }

            last = now;
            await Task.WhenAny(done, Task.Delay(TimeSpan.FromSeconds(15), ct)).ConfigureAwait(false);
        }

        await done.ConfigureAwait(false);
    }

    /// <summary>The <paramref name="quantile"/> of <paramref name="ticks"/> in microseconds (sorts the array).</summary>
    private static double Percentile(long[] ticks, double quantile)
    {
        Array.Sort(ticks);
        return Micros(ticks[Math.Min(ticks.Length - 1, (int)(ticks.Length * quantile))]);
    }

    private static double Micros(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;

    private static string Throughput(string workload, long count, TimeSpan elapsed, long allocated, long? measured = null) =>
        string.Create(CultureInfo.InvariantCulture,
            $"RESULT workload={workload} msgs={count} seconds={elapsed.TotalSeconds:F3} msgs_per_s={count / elapsed.TotalSeconds:F0} alloc_bytes_per_msg={(double)allocated / (measured ?? count):F1}");

    private static Message PerfMessage(byte[] body) => new(body)
    {
        Properties = new MessageProperties { MessageId = "perf-message-0001", ContentType = "application/octet-stream" },
        ApplicationProperties = new Dictionary<string, object?> { ["region"] = "eu-west", ["priority"] = 5 },
    };

    private sealed record PerfSettings(string Workload, long Count, int Size, long Rate, bool Amqp, string Stream, int SubEntry, CompressionType Compression);

    /// <summary>Holds a loop to <c>rate</c> iterations per second (0 = unlimited).</summary>
    private sealed class Pacer(long rate)
    {
        private readonly long _start = Stopwatch.GetTimestamp();

        public ValueTask WaitAsync(long index, CancellationToken ct)
        {
            if (rate <= 0 || (index & 63) != 0)
            {
                return ValueTask.CompletedTask;
            }

            var due = _start + (long)(index * (double)Stopwatch.Frequency / rate);
            var wait = due - Stopwatch.GetTimestamp();
            return wait <= 0 ? ValueTask.CompletedTask : new ValueTask(Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), ct));
        }
    }
}
