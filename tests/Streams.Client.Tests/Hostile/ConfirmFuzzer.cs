using System.Threading.Channels;

namespace Streams.Client.Tests.Hostile;

/// <summary>
/// Drives a real <see cref="Producer"/> against a <see cref="FuzzBroker"/>: each case publishes 1–4 messages with
/// explicit publishing ids, waits for the Publish frames, answers with a mutated PublishConfirm, then with a valid confirm
/// of the ids the mutated one (per the <see cref="ReferenceDecoder"/>) did not settle. Checks that every
/// <see cref="Producer.SendAsync(ulong, ReadOnlyMemory{byte}, CancellationToken)"/> ends within the bound, succeeds only for
/// ids some frame confirmed, is rejected only for ids some frame rejected, and fails only with typed exceptions.
/// </summary>
internal sealed class ConfirmFuzzer
{
    private const string Stream = "fuzz-confirm";
    private readonly FuzzSettings _settings;
    private readonly FuzzReport _report;
    private readonly Channel<BrokerEvent> _events;
    private readonly FuzzBroker _broker;
    private StreamSystem _system = null!;
    private ulong _nextId = 1;

    private ConfirmFuzzer(FuzzSettings settings, FuzzBroker broker)
    {
        _settings = settings;
        _broker = broker;
        _events = broker.Events;
        _report = new FuzzReport("confirm/networked", settings.Seed);
    }

    private sealed class Session
    {
        public required Producer Producer { get; init; }

        public BrokerConnection Connection { get; set; } = null!;

        public byte PublisherId { get; set; }

        public ReferenceStream Wire { get; set; } = new();

        public bool Dead { get; set; }
    }

    public static async Task<FuzzReport> RunAsync(FuzzSettings settings, CancellationToken cancellationToken)
    {
        var logs = new UntypedLogCounter();
        using var memory = new MemorySampler();
        using var unobserved = new UnobservedTaskWatch();
        FuzzReport report;
        await using (var broker = new FuzzBroker())
        {
            var fuzzer = new ConfirmFuzzer(settings, broker);
            report = fuzzer._report;
            fuzzer._system = await StreamSystem.ConnectAsync(FuzzSettings.SystemOptions(broker.Port, logs), cancellationToken).ConfigureAwait(false);
            try
            {
                await fuzzer.RunCoreAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await fuzzer._system.DisposeAsync().ConfigureAwait(false);
            }

            report.Connections = broker.ConnectionsAccepted;
        }

        report.Complete(memory, unobserved, logs, settings.MaxManagedBytes);

        return report;
    }

    private async Task RunCoreAsync(CancellationToken cancellationToken)
    {
        Session? session = null;
        int caseIndex = 0;
        try
        {
            while (_report.Frames < _settings.Frames)
            {
                if (session is null || session.Dead)
                {
                    if (session is not null)
                    {
                        await DisposeAsync(session, caseIndex).ConfigureAwait(false);
                    }

                    _report.Sessions++;
                    session = await StartAsync(caseIndex, cancellationToken).ConfigureAwait(false);
                    if (session is null)
                    {
                        continue;
                    }
                }

                long allocated = GC.GetTotalAllocatedBytes(false);
                await RunCaseAsync(session, caseIndex, cancellationToken).ConfigureAwait(false);
                long caseAllocated = GC.GetTotalAllocatedBytes(false) - allocated;
                _report.MaxCaseAllocatedBytes = Math.Max(_report.MaxCaseAllocatedBytes, caseAllocated);
                if (caseAllocated > _settings.MaxCaseAllocatedBytes)
                {
                    _report.Fail(Outcome.Memory, caseIndex, $"the case allocated {caseAllocated / (1024 * 1024)} MiB", "case allocation over bound", null);
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
                await DisposeAsync(session, caseIndex).ConfigureAwait(false);
            }
        }
    }

    private async Task<Session?> StartAsync(int caseIndex, CancellationToken cancellationToken)
    {
        var options = new ProducerOptions(Stream)
        {
            Recovery = FuzzSettings.FastRecovery,
            ConfirmTimeout = TimeSpan.FromSeconds(1),
            MaxUnconfirmed = 64,
            BatchSize = 8,
        };
        Producer producer;
        try
        {
            producer = await _system.CreateProducerAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (FuzzChecks.IsTyped(ex) && !cancellationToken.IsCancellationRequested)
        {
            _report.Fail(Outcome.Hang, caseIndex, $"could not create a producer: {ex.Message}", "producer creation failed", null);
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            return null;
        }

        var session = new Session { Producer = producer };
        var declared = await NextAsync<PublisherDeclared>(null, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException("The producer was created but the broker saw no DeclarePublisher.");
        Attach(session, declared);
        return session;
    }

    private static void Attach(Session session, PublisherDeclared declared)
    {
        session.Connection = declared.Connection;
        session.PublisherId = declared.PublisherId;
        session.Wire = new ReferenceStream();
    }

    private async Task DisposeAsync(Session session, int caseIndex)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await session.Producer.DisposeAsync().AsTask().WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _report.Fail(Outcome.Hang, caseIndex, "Producer.DisposeAsync did not complete within 20 s", "DisposeAsync hang", null);
        }
        catch (Exception ex)
        {
            if (!FuzzChecks.IsTyped(ex))
            {
                _report.Fail(Outcome.Untyped, caseIndex, $"Producer.DisposeAsync threw {ex.GetType().FullName}: {ex.Message}", "DisposeAsync " + FuzzReport.Signature(ex), null);
            }
        }

        while (_events.Reader.TryRead(out _))
        {
        }
    }

    /// <summary>The next event of type <typeparamref name="T"/> (on <paramref name="connection"/> when given), or null after <paramref name="timeout"/>.</summary>
    private async Task<T?> NextAsync<T>(BrokerConnection? connection, TimeSpan timeout, CancellationToken cancellationToken)
        where T : BrokerEvent
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            while (true)
            {
                var e = await _events.Reader.ReadAsync(cts.Token).ConfigureAwait(false);
                if (e is T t && (connection is null || e.Connection == connection))
                {
                    return t;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private async Task RunCaseAsync(Session session, int caseIndex, CancellationToken cancellationToken)
    {
        if (session.Connection.IsDropped)
        {
            var declared = await NextAsync<PublisherDeclared>(null, _settings.CaseTimeout, cancellationToken).ConfigureAwait(false);
            if (declared is null)
            {
                session.Dead = true;
                return;
            }

            Attach(session, declared);
        }

        var rng = _settings.CaseRandom(caseIndex);
        int k = rng.Next(1, 5);
        var ids = Enumerable.Range(0, k).Select(i => _nextId + (ulong)i).ToList();
        _nextId += (ulong)k;
        var body = new byte[16];
        var sends = new List<(ulong Id, Task Task)>();
        foreach (var id in ids)
        {
            rng.NextBytes(body);
            Task task;
            try
            {
                task = session.Producer.SendAsync(id, body, cancellationToken);
            }
            catch (Exception ex)
            {
                task = Task.FromException(ex);
            }

            sends.Add((id, task));
        }

        // The producer must write them (the broker has not confirmed anything, so it stays within its window).
        var seen = new HashSet<ulong>();
        var deadline = DateTime.UtcNow + _settings.CaseTimeout;
        while (!seen.IsSupersetOf(ids) && !sends.All(s => s.Task.IsCompleted))
        {
            var e = await NextAsync<BrokerEvent>(null, deadline - DateTime.UtcNow, cancellationToken).ConfigureAwait(false);
            if (e is null)
            {
                break;
            }

            if (e is PublisherDeclared redeclared)
            {
                // The producer recovered from an earlier close: the new connection is the one to answer on.
                Attach(session, redeclared);
                seen.Clear();
            }
            else if (e is Published published && published.Connection == session.Connection)
            {
                seen.UnionWith(published.Ids);
            }
        }

        if (!seen.IsSupersetOf(ids))
        {
            await JudgeAsync(session, caseIndex, sends, [], [], null, $"the producer wrote only [{string.Join(",", seen.Intersect(ids))}] of [{string.Join(",", ids)}]").ConfigureAwait(false);
            return;
        }

        var shuffled = ids.OrderBy(_ => rng.Next()).ToList();
        var original = FuzzFrames.PublishConfirm(session.PublisherId, shuffled);
        var mutated = FrameMutator.Mutate(rng, original, recomputeCrc: false);
        _report.MutatedFrames++;
        var confirmed = new HashSet<ulong>();
        var rejected = new HashSet<ulong>();
        var verdicts = new List<Decoded>();
        Feed(session, mutated.Bytes, confirmed, rejected, verdicts);
        var unsettled = ids.Where(id => !confirmed.Contains(id) && !rejected.Contains(id)).ToList();
        byte[] payload = mutated.Bytes;
        bool closes = session.Wire.Broken || verdicts.Any(d => d.Verdict == Verdict.ClosesConnection);
        _report.Frames++;
        if (unsettled.Count > 0 && !closes)
        {
            var repair = FuzzFrames.PublishConfirm(session.PublisherId, unsettled).Bytes;
            Feed(session, repair, confirmed, rejected, verdicts);
            payload = [.. payload, .. repair];
            _report.Frames++;
        }

        bool desync = session.Wire.PendingBytes > 0 || session.Wire.Broken;
        await session.Connection.SendAsync(payload).ConfigureAwait(false);
        if (desync)
        {
            session.Connection.Drop();
        }

        string context = $"verdicts [{string.Join(", ", verdicts.Select(d => $"{d.Verdict}: {d.Reason}"))}]{(desync ? ", stream desynchronised" : string.Empty)}";
        await JudgeAsync(session, caseIndex, sends, confirmed, rejected, mutated, context, verdicts.FirstOrDefault()?.Verdict, desync).ConfigureAwait(false);
    }

    private static void Feed(Session session, byte[] bytes, HashSet<ulong> confirmed, HashSet<ulong> rejected, List<Decoded> verdicts)
    {
        foreach (var frame in session.Wire.Feed(bytes))
        {
            var d = ReferenceDecoder.Decode(frame, 0xFF, session.PublisherId, 0, Stream);
            verdicts.Add(d);
            confirmed.UnionWith(d.Confirmed);
            rejected.UnionWith(d.Errored);
        }
    }

    private async Task JudgeAsync(Session session, int caseIndex, List<(ulong Id, Task Task)> sends, HashSet<ulong> confirmed, HashSet<ulong> rejected, MutatedFrame? mutated, string context, Verdict? first = null, bool desync = false)
    {
        var all = Task.WhenAll(sends.Select(s => s.Task));
        bool ended = await Task.WhenAny(all, Task.Delay(_settings.CaseTimeout + TimeSpan.FromSeconds(1))).ConfigureAwait(false) == all;
        ObserveLater(all);
        foreach (var (_, task) in sends)
        {
            ObserveLater(task);
        }

        if (!ended)
        {
            var pending = sends.Where(s => !s.Task.IsCompleted).Select(s => s.Id);
            _report.Fail(Outcome.Hang, caseIndex, $"SendAsync of ids [{string.Join(",", pending)}] did not complete within {(_settings.CaseTimeout + TimeSpan.FromSeconds(1)).TotalSeconds:0.#} s (confirm timeout 1 s); {context}", "SendAsync hang", mutated);
            session.Dead = true;
            return;
        }

        bool typedFailure = false;
        foreach (var (id, task) in sends)
        {
            if (task.IsCompletedSuccessfully)
            {
                if (!confirmed.Contains(id))
                {
                    _report.Fail(Outcome.WrongDelivery, caseIndex, $"id {id} completed as confirmed but no frame sent confirms it; {context}", "confirmed without a confirm", mutated);
                    session.Dead = true;
                    return;
                }

                continue;
            }

            var error = task.Exception!.InnerException!;
            if (!FuzzChecks.IsTyped(error))
            {
                _report.Fail(Outcome.Untyped, caseIndex, $"SendAsync({id}) threw {error.GetType().FullName}: {error.Message}; {context}", "SendAsync: " + FuzzReport.Signature(error), mutated);
                session.Dead = true;
                return;
            }

            if (error is PublishException && !rejected.Contains(id))
            {
                _report.Fail(Outcome.WrongDelivery, caseIndex, $"id {id} was rejected ({error.Message}) but no frame sent rejects it; {context}", "rejected without a PublishError", mutated);
                session.Dead = true;
                return;
            }

            typedFailure = true;
        }

        // A closed connection must be followed by the producer's recovery (a new DeclarePublisher), or a typed failure.
        bool closed = desync || session.Connection.IsDropped || await WaitDroppedAsync(session.Connection, TimeSpan.FromMilliseconds(first is Verdict.ClosesConnection ? 1000 : 0)).ConfigureAwait(false);
        if (closed)
        {
            var declared = await NextAsync<PublisherDeclared>(null, _settings.CaseTimeout, CancellationToken.None).ConfigureAwait(false);
            if (declared is null)
            {
                if (session.Producer.Status is StreamStatus.Failed or StreamStatus.Closed)
                {
                    _report.Record(Outcome.RejectedTyped);
                }
                else
                {
                    _report.Fail(Outcome.Hang, caseIndex, $"the connection closed but the producer did not redeclare within {_settings.CaseTimeout.TotalSeconds:0.#} s (status {session.Producer.Status}); {context}", "no recovery", mutated);
                }

                session.Dead = true;
                return;
            }

            Attach(session, declared);
            _report.Record(desync ? Outcome.PeerDroppedRecovered : Outcome.ConnectionClosedRecovered);
            return;
        }

        if (first is Verdict.ClosesConnection)
        {
            _report.Fail(Outcome.Hang, caseIndex, $"the frame is malformed at the frame level but the connection stayed open; {context}", "malformed frame did not close", mutated);
            session.Dead = true;
            return;
        }

        _report.Record(typedFailure ? Outcome.RejectedTyped : first switch
        {
            Verdict.Valid => Outcome.Accepted,
            Verdict.Ignored or Verdict.OtherCommand => Outcome.Ignored,
            _ => Outcome.Tolerated,
        });
    }

    /// <summary>A user awaits each send: the harness observes every failure so only the client's own unobserved tasks are counted.</summary>
    private static void ObserveLater(Task task) =>
        task.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private static async Task<bool> WaitDroppedAsync(BrokerConnection connection, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!connection.IsDropped && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5).ConfigureAwait(false);
        }

        return connection.IsDropped;
    }
}
