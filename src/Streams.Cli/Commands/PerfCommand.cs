using System.Buffers.Binary;
using System.Diagnostics;
using System.CommandLine;
using System.Globalization;
using System.Runtime.CompilerServices;
using Streams.Cli.Cli;
using Streams.Cli.Perf;
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

    public static Command Create(CliEnvironment env, Option<string> uri)
    {
        var command = new Command("perf",
            "Measure this client against a broker; the last line is RESULT workload=... (a progress line shows on a terminal during long runs).");
        command.Subcommands.Add(Workload(env, uri, "publish", "Publish --count messages (the stream is deleted and re-created first) and wait for every confirm.", 1_000_000, 0, DefaultStream));
        command.Subcommands.Add(Workload(env, uri, "consume", "Read --count messages from the first offset of the stream `perf publish` left.", 1_000_000, 0, DefaultStream));
        command.Subcommands.Add(Workload(env, uri, "latency", "Publish and consume at once at --rate: confirm and end-to-end latency percentiles (the stream is re-created).", 100_000, 20_000, DefaultStream + "-latency"));
        return command;
    }

    private static Command Workload(CliEnvironment env, Option<string> uri, string workload, string description, long defaultCount, long defaultRate, string defaultStream)
    {
        var count = CliOptions.Int64("--count", "How many messages.", defaultCount, min: 1);
        var size = CliOptions.Int64("--size", "Body size in bytes.", 100, min: 9, max: 1_000_000);
        var rate = CliOptions.Int64("--rate", "Messages per second (0: as fast as possible).", defaultRate, min: 0);
        var stream = new Option<string>("--stream") { Description = "The stream.", HelpName = "NAME", DefaultValueFactory = _ => defaultStream };
        var command = new Command(workload, description) { count, size, rate, stream };
        Option<bool>? amqp = null;
        Option<long>? subEntry = null;
        Option<long>? subEntrySize = null;
        Option<string>? compression = null;
        if (workload == "publish")
        {
            amqp = CliOptions.Flag("--amqp", "Publish AMQP 1.0 messages with properties instead of raw bodies.");
            subEntry = CliOptions.Int64("--sub-entry", "Publish sub-entry batches of this many messages (0: none).", 0, min: 0, max: ushort.MaxValue);
            subEntrySize = CliOptions.Int64("--sub-entry-size", "Let the producer group the messages into sub-entry batches of up to this many (ProducerOptions.SubEntrySize; 1: none).", 1, min: 1, max: ushort.MaxValue);
            // The choices are the codec names (CompressionType), lower case; every one is registered (Connection.Options).
            compression = CliOptions.Choice("--compression", "Sub-entry batch compression.", "none", [.. Enum.GetNames<CompressionType>().Select(n => n.ToLowerInvariant())]);
            command.Options.Add(amqp);
            command.Options.Add(subEntry);
            command.Options.Add(subEntrySize);
            command.Options.Add(compression);
            command.Validators.Add(result =>
            {
                if (result.Valid(subEntry) > 0 && result.Valid(amqp))
                {
                    result.AddError("option --sub-entry publishes raw bodies; it cannot be combined with --amqp");
                }

                if (result.Valid(subEntry) > 0 && result.Valid(subEntrySize) > 1)
                {
                    result.AddError("options --sub-entry (batches made by the caller) and --sub-entry-size (made by the producer) are exclusive");
                }

                if (result.IsGiven(compression) && result.Valid(subEntry) == 0 && result.Valid(subEntrySize) <= 1)
                {
                    result.AddError("option --compression applies to --sub-entry or --sub-entry-size batches only");
                }
            });
        }

        command.SetAction(async (parse, ct) =>
        {
            var settings = new PerfSettings(
                Workload: workload,
                Count: parse.GetValue(count),
                Size: (int)parse.GetValue(size),
                Rate: parse.GetValue(rate),
                Amqp: amqp is not null && parse.GetValue(amqp),
                Stream: parse.GetValue(stream)!,
                SubEntry: subEntry is null ? 0 : (int)parse.GetValue(subEntry),
                SubEntrySize: subEntrySize is null ? 1 : (int)parse.GetValue(subEntrySize),
                Compression: compression is null ? CompressionType.None : Enum.Parse<CompressionType>(parse.GetValue(compression)!, ignoreCase: true));
            await using var system = await Connection.ConnectAsync(parse.GetValue(uri)!, ct).ConfigureAwait(false);
            var progress = new StrongBox<long>();
            string result;
            using (PerfProgress.Start(env, workload, settings.Count, () => Volatile.Read(ref progress.Value)))
            {
                result = workload switch
                {
                    "publish" => await PublishAsync(system, settings, progress, ct).ConfigureAwait(false),
                    "consume" => await ConsumeAsync(system, settings, progress, ct).ConfigureAwait(false),
                    _ => await LatencyAsync(system, settings, progress, ct).ConfigureAwait(false),
                };
            }

            await env.Output.WriteLineAsync(result).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    private static async Task RecreateAsync(StreamSystem system, string stream, CancellationToken ct)
    {
        if (await system.StreamExistsAsync(stream, ct).ConfigureAwait(false))
        {
            await system.DeleteStreamAsync(stream, ct).ConfigureAwait(false);
        }

        await system.CreateStreamAsync(stream, new StreamSpec { MaxLengthBytes = 2_000_000_000 }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Publishes <c>count</c> messages as sub-entry batches of <c>--sub-entry</c> messages (one publishing id and one
    /// chunk entry per batch, compressed with <c>--compression</c>), keeping many batches in flight.
    /// </summary>
    private static async Task<string> PublishSubEntriesAsync(StreamSystem system, PerfSettings s, StrongBox<long> progress, CancellationToken ct)
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
            progress.Value = sent;
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

    private static async Task<string> PublishAsync(StreamSystem system, PerfSettings s, StrongBox<long> progress, CancellationToken ct)
    {
        if (s.SubEntry > 0)
        {
            return await PublishSubEntriesAsync(system, s, progress, ct).ConfigureAwait(false);
        }

        await RecreateAsync(system, s.Stream, ct).ConfigureAwait(false);
        var producerOptions = new ProducerOptions(s.Stream) { SubEntrySize = s.SubEntrySize, Compression = s.Compression };
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
            progress.Value = i;
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

        var workload = s.Amqp ? "publish-amqp" : "publish";
        if (s.SubEntrySize > 1)
        {
            workload += $"-sub-entry-size-{s.SubEntrySize}-{s.Compression.ToString().ToLowerInvariant()}";
        }

        return Throughput(workload, s.Count, watch.Elapsed, allocated);
    }

    private static async Task<string> ConsumeAsync(StreamSystem system, PerfSettings s, StrongBox<long> progress, CancellationToken ct)
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
                progress.Value = ++received;
                if (received == warmUp)
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

    private static async Task<string> LatencyAsync(StreamSystem system, PerfSettings s, StrongBox<long> progress, CancellationToken ct)
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
                    progress.Value = ++received;
                    if (received == latencies.Length)
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

    private sealed record PerfSettings(string Workload, long Count, int Size, long Rate, bool Amqp, string Stream, int SubEntry, int SubEntrySize, CompressionType Compression);

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
