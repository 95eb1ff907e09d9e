using System.Threading.Channels;
using Streams.Client.Consumers;

namespace Streams.Client.Tests.Hostile;

/// <summary>Settings shared by the fuzzers.</summary>
internal sealed record FuzzSettings(int Seed, int Frames)
{
    /// <summary>How long a case may take to reach an outcome before it counts as a hang.</summary>
    public TimeSpan CaseTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A case allocating more than this (process-wide) counts as unbounded memory.</summary>
    public long MaxCaseAllocatedBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>The managed heap must stay under this for the whole run.</summary>
    public long MaxManagedBytes { get; init; } = 1024L * 1024 * 1024;

    /// <summary>The per-case random source: a case replays alone from (seed, case index).</summary>
    public Random CaseRandom(int caseIndex)
    {
        // Not HashCode.Combine: it is randomised per process, and a case must replay in any process.
        ulong mixed = unchecked(((ulong)(uint)Seed * 0x9E3779B97F4A7C15UL) ^ ((ulong)(uint)caseIndex * 0xC2B2AE3D27D4EB4FUL));
        mixed ^= mixed >> 31;
        return new Random(unchecked((int)(mixed ^ (mixed >> 32))));
    }

    public static StreamSystemOptions SystemOptions(int port, Microsoft.Extensions.Logging.ILoggerFactory logs)
    {
        var options = new StreamSystemOptions
        {
            RequestedHeartbeat = TimeSpan.Zero,
            RequestTimeout = TimeSpan.FromSeconds(2),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            LoggerFactory = logs,
        };
        options.Endpoints.Add(new StreamEndpoint("127.0.0.1", port));
        return options;
    }

    private static readonly bool Tracing = Environment.GetEnvironmentVariable("STREAMS_FUZZ_TRACE") == "1";

    /// <summary>Progress on standard error when STREAMS_FUZZ_TRACE=1 (to find where a run stalls).</summary>
    public static void Trace(string message)
    {
        if (Tracing)
        {
            Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {message}");
        }
    }

    public static readonly Streams.Client.RecoveryPolicy FastRecovery = new()
    {
        InitialDelay = TimeSpan.FromMilliseconds(5),
        MaxDelay = TimeSpan.FromMilliseconds(50),
        MaxAttempts = 20,
    };
}

/// <summary>
/// Drives a real <see cref="StreamSystem"/> and <see cref="Consumer"/> against a <see cref="FuzzBroker"/>: each case
/// sends one mutated Deliver frame followed by a valid one, and checks that every delivered message is one the
/// <see cref="ReferenceDecoder"/> finds in the bytes (offset and body), that nothing untyped reaches the user, that each
/// case ends (valid frame delivered, typed failure, or reconnection) within <see cref="FuzzSettings.CaseTimeout"/>, and
/// that memory stays bounded. Consumers alternate between <see cref="Consumer.ReadAllAsync"/> and a handler.
/// </summary>
internal sealed class DeliverFuzzer
{
    private const string Stream = "fuzz-deliver";
    private readonly FuzzSettings _settings;
    private readonly FuzzReport _report;
    private readonly Channel<object> _inbox = Channel.CreateUnbounded<object>();
    private FuzzBroker _broker = null!;
    private StreamSystem _system = null!;

    private DeliverFuzzer(FuzzSettings settings)
    {
        _settings = settings;
        _report = new FuzzReport("deliver/networked", settings.Seed);
    }

    public static async Task<FuzzReport> RunAsync(FuzzSettings settings, CancellationToken cancellationToken)
    {
        var fuzzer = new DeliverFuzzer(settings);
        await fuzzer.RunCoreAsync(cancellationToken).ConfigureAwait(false);
        return fuzzer._report;
    }

    private sealed record Delivered(int Session, ulong Offset, byte[] Body);

    private sealed record ReaderFailed(int Session, Exception Error, string Where);

    private sealed record ReaderEnded(int Session);

    /// <summary>Required: must arrive. Optional: from a malformed frame, may be skipped. Stale: queued on a lost connection, may never come.</summary>
    private enum Expect
    {
        Required,
        Optional,
        Stale,
    }

    private sealed class Session
    {
        public required int Number { get; init; }

        public required Consumer Consumer { get; init; }

        public BrokerConnection Connection { get; set; } = null!;

        public byte SubscriptionId { get; set; }

        public ReferenceStream Wire { get; set; } = new();

        /// <summary>The next offset a correct client may deliver (after the last delivered one, or the subscription start).</summary>
        public ulong Next { get; set; }

        /// <summary>The next chunk id the "broker" writes.</summary>
        public ulong Position { get; set; }

        public bool Dead { get; set; }

        public Queue<(ulong Offset, byte[] Body, Expect Kind)> Expected { get; } = new();
    }

    private async Task RunCoreAsync(CancellationToken cancellationToken)
    {
        var logs = new UntypedLogCounter();
        using var memory = new MemorySampler();
        using var unobserved = new UnobservedTaskWatch();
        await using (_broker = new FuzzBroker())
        {
            _system = await StreamSystem.ConnectAsync(FuzzSettings.SystemOptions(_broker.Port, logs), cancellationToken).ConfigureAwait(false);
            var pump = Task.Run(() => PumpEventsAsync(cancellationToken), CancellationToken.None);
            Session? session = null;
            int caseIndex = 0;
            try
            {
                while (_report.Frames < _settings.Frames)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (session is null || session.Dead)
                    {
                        if (session is not null)
                        {
                            await DisposeSessionAsync(session, caseIndex).ConfigureAwait(false);
                        }

                        FuzzSettings.Trace($"deliver session {_report.Sessions} starting at case {caseIndex}");
                        session = await StartSessionAsync(_report.Sessions++, caseIndex, cancellationToken).ConfigureAwait(false);
                        if (session is null)
                        {
                            continue;
                        }
                    }

                    long allocated = GC.GetTotalAllocatedBytes(false);
                    FuzzSettings.Trace($"deliver case {caseIndex} session {session.Number} position {session.Position} next {session.Next}");
                    await RunCaseAsync(session, caseIndex, cancellationToken).ConfigureAwait(false);
                    long caseAllocated = GC.GetTotalAllocatedBytes(false) - allocated;
                    _report.MaxCaseAllocatedBytes = Math.Max(_report.MaxCaseAllocatedBytes, caseAllocated);
                    if (caseAllocated > _settings.MaxCaseAllocatedBytes)
                    {
                        _report.Fail(Outcome.Memory, caseIndex, $"the case allocated {caseAllocated / (1024 * 1024)} MiB", "case allocation over bound", _lastMutated);
                    }

                    caseIndex++;
                    _report.Cases++;
                    if (caseIndex % 250 == 0)
                    {
                        UnobservedTaskWatch.Flush();
                    }
                }
            }
            finally
            {
                if (session is not null)
                {
                    await DisposeSessionAsync(session, caseIndex).ConfigureAwait(false);
                }

                await _system.DisposeAsync().ConfigureAwait(false);
                _broker.Events.Writer.TryComplete();
                await pump.ConfigureAwait(false);
            }
        }

        _report.Complete(memory, unobserved, logs, _settings.MaxManagedBytes);

        _report.Connections = _broker.ConnectionsAccepted;
    }

    private MutatedFrame? _lastMutated;

    private async Task PumpEventsAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var e in _broker.Events.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                _inbox.Writer.TryWrite(e);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task<Session?> StartSessionAsync(int number, int caseIndex, CancellationToken cancellationToken)
    {
        bool handler = number % 2 == 1;
        var options = new ConsumerOptions(Stream)
        {
            Offset = OffsetSpecification.First,
            Recovery = FuzzSettings.FastRecovery,
            InitialCredits = 10,
        };
        if (handler)
        {
            options.Handler = (d, _) =>
            {
                _inbox.Writer.TryWrite(new Delivered(number, d.Offset, d.Body.ToArray()));
                return ValueTask.CompletedTask;
            };
        }

        Consumer consumer;
        int connectionsBefore = _broker.ConnectionsAccepted;
        try
        {
            consumer = await _system.CreateConsumerAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (FuzzChecks.IsTyped(ex) && !cancellationToken.IsCancellationRequested)
        {
            _report.Fail(Outcome.Hang, caseIndex, $"could not create a consumer: {ex.Message}", "consumer creation failed", null);
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            return null;
        }

        var session = new Session { Number = number, Consumer = consumer };

        // A user of ReadAllAsync sees the failure there; Completion carries it too and is observed like a careful user would.
        _ = consumer.Completion.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        var subscribed = await NextSubscribeAsync(connectionsBefore, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException("The consumer subscribed but the broker saw no Subscribe.");
        Attach(session, subscribed);
        if (handler)
        {
            _ = consumer.Completion.ContinueWith(
                t => _inbox.Writer.TryWrite(t.IsFaulted ? new ReaderFailed(number, t.Exception!.InnerException!, "Completion") : new ReaderEnded(number)),
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        else
        {
            _ = Task.Run(() => ReadAsync(session), CancellationToken.None);
        }

        return session;
    }

    private async Task ReadAsync(Session session)
    {
        try
        {
            await foreach (var d in session.Consumer.ReadAllAsync().ConfigureAwait(false))
            {
                _inbox.Writer.TryWrite(new Delivered(session.Number, d.Offset, d.Body.ToArray()));
            }

            _inbox.Writer.TryWrite(new ReaderEnded(session.Number));
        }
        catch (Exception ex)
        {
            _inbox.Writer.TryWrite(new ReaderFailed(session.Number, ex, "ReadAllAsync"));
        }
    }

    private static void Attach(Session session, Subscribed subscribed)
    {
        session.Connection = subscribed.Connection;
        session.SubscriptionId = subscribed.SubscriptionId;
        session.Wire = new ReferenceStream();
        ulong start = subscribed.OffsetType == 4 ? subscribed.OffsetValue : 0;
        session.Next = Math.Max(session.Next, start);
        session.Position = Math.Max(session.Position, start);

        // What the old connection still had queued may or may not arrive (the client drops stale chunks).
        var left = session.Expected.ToArray();
        session.Expected.Clear();
        foreach (var (offset, body, _) in left)
        {
            session.Expected.Enqueue((offset, body, Expect.Stale));
        }
    }

    /// <summary>The next Subscribe on a connection newer than <paramref name="afterConnection"/> (an old consumer's late recovery is ignored).</summary>
    private async Task<Subscribed?> NextSubscribeAsync(int afterConnection, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            while (true)
            {
                var item = await _inbox.Reader.ReadAsync(cts.Token).ConfigureAwait(false);
                if (item is Subscribed s)
                {
                    if (s.Connection.Id > afterConnection)
                    {
                        return s;
                    }

                    s.Connection.Drop();
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private async Task DisposeSessionAsync(Session session, int caseIndex)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await session.Consumer.DisposeAsync().AsTask().WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _report.Fail(Outcome.Hang, caseIndex, "Consumer.DisposeAsync did not complete within 15 s", "DisposeAsync hang", _lastMutated);
        }
        catch (Exception ex)
        {
            if (!FuzzChecks.IsTyped(ex))
            {
                _report.Fail(Outcome.Untyped, caseIndex, $"Consumer.DisposeAsync threw {ex.GetType().FullName}: {ex.Message}", "DisposeAsync " + FuzzReport.Signature(ex), _lastMutated);
            }
        }

        // Drain what the old session still reports.
        while (_inbox.Reader.TryRead(out var item))
        {
            if (item is Subscribed s)
            {
                s.Connection.Drop();
            }
        }
    }

    private static void Feed(Session session, byte[] bytes, bool optional, List<Decoded> decoded)
    {
        foreach (var frame in session.Wire.Feed(bytes))
        {
            var d = ReferenceDecoder.Decode(frame, session.SubscriptionId, 0xFF, session.Next, Stream);
            decoded.Add(d);
            bool frameOptional = optional || d.Verdict != Verdict.Valid;
            foreach (var (offset, body) in d.Records)
            {
                if (offset >= session.Next)
                {
                    session.Expected.Enqueue((offset, body, frameOptional ? Expect.Optional : Expect.Required));
                    session.Next = offset + 1;
                }
            }
        }
    }

    private async Task RunCaseAsync(Session session, int caseIndex, CancellationToken cancellationToken)
    {
        var rng = _settings.CaseRandom(caseIndex);
        var original = FuzzFrames.Deliver(rng, session.SubscriptionId, session.Position);
        var mutated = FrameMutator.Mutate(rng, original, recomputeCrc: rng.Next(2) == 0);
        _lastMutated = mutated;
        _report.MutatedFrames++;
        if (mutated.CrcRecomputed)
        {
            _report.CrcRefitted++;
        }

        var decoded = new List<Decoded>();
        Feed(session, mutated.Bytes, optional: false, decoded);
        session.Position = Math.Max(session.Position + (ulong)original.Records.Count, session.Next);
        var verdicts = decoded.Select(d => d.Verdict).ToList();
        bool closes = session.Wire.Broken || verdicts.Contains(Verdict.ClosesConnection);

        byte[]? barrier = null;
        if (!closes && session.Position < ulong.MaxValue - 64)
        {
            var valid = FuzzFrames.Deliver(rng, session.SubscriptionId, session.Position);
            barrier = valid.Bytes;
            session.Position += (ulong)valid.Records.Count;
            // After a malformed chunk the consumer is expected to stop: the barrier's messages are then optional.
            bool afterInvalid = verdicts.Contains(Verdict.Invalid);
            Feed(session, barrier, afterInvalid, decoded);
        }

        bool desync = session.Wire.PendingBytes > 0 || session.Wire.Broken;
        var connection = session.Connection;
        var payload = barrier is null ? mutated.Bytes : [.. mutated.Bytes, .. barrier];
        await connection.SendAsync(payload).ConfigureAwait(false);
        _report.Frames += barrier is null ? 1 : 2;
        bool dropped = false;
        if (desync)
        {
            // The frame announces more bytes than will ever come (or a size no frame has): the peer gives up.
            connection.Drop();
            dropped = true;
        }

        string context = $"verdicts [{string.Join(", ", decoded.Select(d => $"{d.Verdict}: {d.Reason}"))}]{(desync ? ", stream desynchronised" : string.Empty)}";
        var deadline = DateTime.UtcNow + _settings.CaseTimeout;
        bool rescued = false;
        while (true)
        {
            bool waitingForDelivery = session.Expected.Any(e => e.Kind != Expect.Stale);
            if (!waitingForDelivery && !desync && !connection.IsDropped && !closes)
            {
                _report.Record(ClassifyDelivered(verdicts));
                return;
            }

            object? item = await NextAsync(deadline, cancellationToken).ConfigureAwait(false);
            if (item is null)
            {
                if (!rescued)
                {
                    _report.Fail(Outcome.Hang, caseIndex,
                        $"no outcome within {_settings.CaseTimeout.TotalSeconds:0.#} s (waiting for {(waitingForDelivery ? $"offset {session.Expected.Last(e => e.Kind != Expect.Stale).Offset}" : "a reconnection")}, connection {(connection.IsDropped ? "closed" : "open")}); {context}",
                        waitingForDelivery ? "stalled waiting for a delivery" : "no reconnection", mutated);
                }

                // Start over with a new consumer (the old one is disposed, bounded).
                session.Dead = true;
                return;
            }

            switch (item)
            {
                case Delivered d when d.Session == session.Number:
                    if (!Match(session, d, out string problem))
                    {
                        _report.Fail(Outcome.WrongDelivery, caseIndex, $"{problem}; {context}", "delivery not in the frame", mutated);
                        session.Dead = true;
                        return;
                    }

                    break;
                case ReaderFailed f when f.Session == session.Number:
                    session.Dead = true;
                    if (rescued)
                    {
                        return;
                    }

                    if (FuzzChecks.IsTyped(f.Error))
                    {
                        _report.Record(Outcome.RejectedTyped);
                    }
                    else
                    {
                        _report.Fail(Outcome.Untyped, caseIndex, $"{f.Where} threw {f.Error.GetType().FullName}: {f.Error.Message}; {context}", $"{f.Where}: {FuzzReport.Signature(f.Error)}", mutated);
                    }

                    return;
                case ReaderEnded e when e.Session == session.Number:
                    session.Dead = true;
                    if (!rescued)
                    {
                        _report.Fail(Outcome.Hang, caseIndex, $"the consumer ended without an error and without being disposed; {context}", "consumer ended silently", mutated);
                    }

                    return;
                case Subscribed stale when stale.Connection.Id <= session.Connection.Id:
                    // A disposed consumer's late recovery: not this session's.
                    stale.Connection.Drop();
                    break;
                case Subscribed s:
                    Attach(session, s);
                    if (!rescued)
                    {
                        _report.Record(dropped ? Outcome.PeerDroppedRecovered : Outcome.ConnectionClosedRecovered);
                    }

                    return;
                default:
                    break;
            }
        }
    }

    private static Outcome ClassifyDelivered(List<Verdict> verdicts)
    {
        if (verdicts.Count == 0 || verdicts[0] == Verdict.Valid)
        {
            return Outcome.Accepted;
        }

        return verdicts[0] is Verdict.Ignored or Verdict.OtherCommand ? Outcome.Ignored : Outcome.Tolerated;
    }

    private static bool Match(Session session, Delivered d, out string problem)
    {
        while (session.Expected.TryPeek(out var head))
        {
            if (head.Offset == d.Offset && head.Body.AsSpan().SequenceEqual(d.Body))
            {
                session.Expected.Dequeue();
                problem = string.Empty;
                return true;
            }

            if (head.Kind == Expect.Required)
            {
                problem = $"delivered offset {d.Offset} ({d.Body.Length} bytes {FuzzReport.Hex(d.Body, 16)}) but expected offset {head.Offset} ({head.Body.Length} bytes {FuzzReport.Hex(head.Body, 16)})";
                return false;
            }

            session.Expected.Dequeue();
        }

        problem = $"delivered offset {d.Offset} ({d.Body.Length} bytes {FuzzReport.Hex(d.Body, 16)}), which no frame sent contains";
        return false;
    }

    private async Task<object?> NextAsync(DateTime deadline, CancellationToken cancellationToken)
    {
        var remaining = deadline - DateTime.UtcNow;
        if (remaining <= TimeSpan.Zero)
        {
            return _inbox.Reader.TryRead(out var late) ? late : null;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(remaining);
        try
        {
            return await _inbox.Reader.ReadAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}

/// <summary>
/// The connection-free mode: mutated chunks go straight into the internal <see cref="ChunkHeader"/> and
/// <see cref="ChunkReader"/> (as the consumer calls them, CRC check included), and the records read are compared with
/// the <see cref="ReferenceDecoder"/>. Fast, so it covers many more mutations than the networked mode.
/// </summary>
internal static class ChunkParserFuzzer
{
    public static FuzzReport Run(FuzzSettings settings)
    {
        var report = new FuzzReport("deliver/parser", settings.Seed);
        using var memory = new MemorySampler();
        for (int i = 0; i < settings.Frames; i++)
        {
            var rng = settings.CaseRandom(i);
            ulong chunkId = (ulong)rng.Next(0, 1_000_000);
            var original = FuzzFrames.Deliver(rng, 1, chunkId);
            var mutated = FrameMutator.Mutate(rng, original, recomputeCrc: rng.Next(2) == 0);
            report.Frames++;
            report.MutatedFrames++;
            report.Cases++;
            if (mutated.CrcRecomputed)
            {
                report.CrcRefitted++;
            }

            // The chunk as the consumer would get it: after the Deliver header (v1 or v2 by the mutated version field).
            byte[] body = mutated.Bytes.Length > 4 ? mutated.Bytes[4..] : [];
            if (body.Length < 5)
            {
                report.Record(Outcome.Ignored);
                continue;
            }

            body[0] = 0x00;
            body[1] = 0x08;
            body[4] = 1;
            int chunkStart = (body[2] << 8 | body[3]) >= 2 ? 13 : 5;
            if (body.Length < chunkStart)
            {
                report.Record(Outcome.Ignored);
                continue;
            }

            var expected = ReferenceDecoder.Decode(body, 1, 0xFF, 0, "s");
            long allocated = GC.GetTotalAllocatedBytes(false);
            var records = new List<(ulong, byte[])>();
            Exception? error = null;
            try
            {
                var chunk = new ReadOnlyMemory<byte>(body, chunkStart, body.Length - chunkStart);
                var header = ChunkHeader.Read(chunk.Span);
                if (header.IsUserChunk && !header.IsCrcValid(chunk.Span))
                {
                    throw new ChunkFormatException("CRC");
                }

                var reader = new ChunkReader(chunk, header, 0);
                try
                {
                    while (reader.TryRead(out ulong offset, out var message))
                    {
                        records.Add((offset, message.ToArray()));
                        if (records.Count > 100_000)
                        {
                            break;
                        }
                    }
                }
                finally
                {
                    reader.Dispose();
                }
            }
            catch (Exception ex)
            {
                error = ex;
            }

            long caseAllocated = GC.GetTotalAllocatedBytes(false) - allocated;
            report.MaxCaseAllocatedBytes = Math.Max(report.MaxCaseAllocatedBytes, caseAllocated);
            if (caseAllocated > settings.MaxCaseAllocatedBytes)
            {
                report.Fail(Outcome.Memory, i, $"parsing one chunk allocated {caseAllocated / (1024 * 1024)} MiB ({expected.Verdict}: {expected.Reason}); {(error is null ? "no error" : error.GetType().Name)}", "chunk parse allocation over bound", mutated);
                continue;
            }

            // Every record read must be the reference's, in order.
            int matched = 0;
            string? wrong = null;
            foreach (var (offset, message) in records)
            {
                if (matched < expected.Records.Count && expected.Records[matched].Offset == offset && expected.Records[matched].Body.AsSpan().SequenceEqual(message))
                {
                    matched++;
                    continue;
                }

                wrong = $"read offset {offset} ({message.Length} bytes) where the reference has {(matched < expected.Records.Count ? $"offset {expected.Records[matched].Offset}" : "nothing more")}";
                break;
            }

            if (wrong is not null)
            {
                report.Fail(Outcome.WrongDelivery, i, $"{wrong} ({expected.Verdict}: {expected.Reason})", "chunk reader record mismatch", mutated);
            }
            else if (error is not null && !FuzzChecks.IsTyped(error))
            {
                report.Fail(Outcome.Untyped, i, $"{error.GetType().FullName}: {error.Message} ({expected.Verdict}: {expected.Reason})", FuzzReport.Signature(error), mutated);
            }
            else if (error is not null)
            {
                report.Record(Outcome.RejectedTyped);
            }
            else if (expected.Verdict == Verdict.Valid)
            {
                if (matched == expected.Records.Count)
                {
                    report.Record(Outcome.Accepted);
                }
                else
                {
                    report.Fail(Outcome.WrongDelivery, i, $"read {matched} of the {expected.Records.Count} records of a valid chunk without an error", "chunk reader lost records", mutated);
                }
            }
            else
            {
                report.Record(expected.Verdict is Verdict.Ignored ? Outcome.Ignored : Outcome.Tolerated);
            }
        }

        memory.Sample();
        report.PeakManagedBytes = memory.PeakManaged;
        report.PeakWorkingSetBytes = memory.PeakWorkingSet;
        return report;
    }
}
