using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Streams.Client.Tests.Hostile;

/// <summary>How one fuzz case ended.</summary>
internal enum Outcome
{
    /// <summary>The mutated frame was well-formed (or still is after the mutation); everything was delivered.</summary>
    Accepted,

    /// <summary>The mutated frame was not for us / not a user chunk / another command: nothing delivered, the client kept working.</summary>
    Ignored,

    /// <summary>The mutated frame is malformed or inconsistent but the client carried on without an error (tolerated).</summary>
    Tolerated,

    /// <summary>The client rejected the frame with a typed <see cref="StreamClientException"/> (consumer/producer call failed).</summary>
    RejectedTyped,

    /// <summary>The client closed the connection and recovered (resubscribed / redeclared).</summary>
    ConnectionClosedRecovered,

    /// <summary>The stream was desynchronised (size prefix); the peer gave up, the client recovered.</summary>
    PeerDroppedRecovered,

    // ---- failures
    Untyped,
    Hang,
    WrongDelivery,
    Memory,
}

/// <summary>One failing case, with what is needed to reproduce it.</summary>
internal sealed record FuzzFailure(string Mode, int Seed, int Case, Outcome Outcome, string What, string Frame, string FrameHex)
{
    public override string ToString() => $"[{Mode} seed {Seed} case {Case}] {Outcome}: {What}\n    frame: {Frame}\n    bytes: {FrameHex}";
}

/// <summary>Figures of a fuzz run, and the failures it found.</summary>
internal sealed class FuzzReport
{
    private const int MaxDetailed = 40;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Dictionary<Outcome, int> _outcomes = [];
    private readonly Dictionary<string, int> _signatures = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FuzzFailure> _firstBySignature = new(StringComparer.Ordinal);

    public FuzzReport(string mode, int seed)
    {
        Mode = mode;
        Seed = seed;
    }

    public string Mode { get; }

    public int Seed { get; }

    public int Frames { get; set; }

    public int MutatedFrames { get; set; }

    public int CrcRefitted { get; set; }

    public int Cases { get; set; }

    public int Sessions { get; set; }

    public int Connections { get; set; }

    public long PeakManagedBytes { get; set; }

    public long PeakWorkingSetBytes { get; set; }

    public long MaxCaseAllocatedBytes { get; set; }

    public int UnobservedTaskExceptions { get; set; }

    public Dictionary<string, int> LoggedUntyped { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, int> Unobserved { get; } = new(StringComparer.Ordinal);

    public List<FuzzFailure> Failures { get; } = [];

    public int FailureCount => Count(Outcome.Untyped) + Count(Outcome.Hang) + Count(Outcome.WrongDelivery) + Count(Outcome.Memory);

    public int Count(Outcome outcome) => _outcomes.GetValueOrDefault(outcome);

    public TimeSpan Elapsed => _clock.Elapsed;

    public void Record(Outcome outcome) => _outcomes[outcome] = Count(outcome) + 1;

    /// <summary>Records a failing case; the signature (outcome + exception type + where) groups repeats.</summary>
    public void Fail(Outcome outcome, int caseIndex, string what, string signature, MutatedFrame? frame)
    {
        Record(outcome);
        var failure = new FuzzFailure(Mode, Seed, caseIndex, outcome, what, frame?.Describe() ?? "(none)", frame is null ? string.Empty : Hex(frame.Bytes));
        string key = $"{outcome}: {signature}";
        _signatures[key] = _signatures.GetValueOrDefault(key) + 1;
        _firstBySignature.TryAdd(key, failure);
        if (Failures.Count < MaxDetailed)
        {
            Failures.Add(failure);
        }
    }

    public static string Hex(byte[] bytes, int max = 400) =>
        bytes.Length <= max ? Convert.ToHexString(bytes) : Convert.ToHexString(bytes, 0, max) + $"…(+{bytes.Length - max} bytes)";

    /// <summary>A signature for an exception: its type and the first client method on its stack.</summary>
    public static string Signature(Exception ex)
    {
        var frame = new StackTrace(ex, false).GetFrames().Select(f => f.GetMethod()).FirstOrDefault(m => m?.DeclaringType?.Namespace?.StartsWith("Streams.Client", StringComparison.Ordinal) == true
            && m.DeclaringType.Namespace?.StartsWith("Streams.Client.Tests", StringComparison.Ordinal) != true);
        string where = frame is null ? "?" : $"{frame.DeclaringType?.Name}.{frame.Name}";
        return $"{ex.GetType().Name} at {where}";
    }

    public string Summary()
    {
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"{Mode} (seed {Seed}): {Frames} frames ({MutatedFrames} mutated, {CrcRefitted} with a refitted CRC) in {Cases} cases, {Elapsed.TotalSeconds:0.0} s");
        if (Sessions > 0)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"  consumer/producer sessions {Sessions}, broker connections {Connections}");
        }

        s.AppendLine("  outcomes: " + string.Join(", ", Enum.GetValues<Outcome>().Select(o => $"{o} {Count(o)}")));
        s.AppendLine(CultureInfo.InvariantCulture, $"  untyped exceptions {Count(Outcome.Untyped)}, crashes 0 (process alive), hangs {Count(Outcome.Hang)}, wrong offsets/confirms {Count(Outcome.WrongDelivery)}, memory {Count(Outcome.Memory)}, unobserved task exceptions {UnobservedTaskExceptions}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  peak managed heap {PeakManagedBytes / (1024.0 * 1024):0.0} MiB, peak working set {PeakWorkingSetBytes / (1024.0 * 1024):0.0} MiB, max allocated in one case {MaxCaseAllocatedBytes / (1024.0 * 1024):0.00} MiB");
        if (LoggedUntyped.Count > 0)
        {
            s.AppendLine("  untyped exceptions swallowed into client logs: " + string.Join(", ", LoggedUntyped.Select(kv => $"{kv.Key} ×{kv.Value}")));
        }

        if (Unobserved.Count > 0)
        {
            s.AppendLine("  unobserved task exceptions: " + string.Join(", ", Unobserved.Select(kv => $"{kv.Key} ×{kv.Value}")));
        }

        if (_signatures.Count > 0)
        {
            s.AppendLine("  failures by signature (first case of each):");
            foreach (var (key, count) in _signatures.OrderByDescending(kv => kv.Value))
            {
                var first = _firstBySignature[key];
                s.AppendLine(CultureInfo.InvariantCulture, $"    ×{count} {key}");
                s.AppendLine(CultureInfo.InvariantCulture, $"       first: case {first.Case}: {first.What}");
                s.AppendLine(CultureInfo.InvariantCulture, $"       frame: {first.Frame}");
                s.AppendLine(CultureInfo.InvariantCulture, $"       bytes: {first.FrameHex}");
            }
        }

        return s.ToString();
    }

    /// <summary>
    /// Closes a networked run: the memory peaks (a failure above <paramref name="maxManagedBytes"/>), the unobserved task
    /// exceptions (untyped ones fail) and the untyped exceptions the client logged.
    /// </summary>
    public void Complete(MemorySampler memory, UnobservedTaskWatch unobserved, UntypedLogCounter logs, long maxManagedBytes)
    {
        UnobservedTaskWatch.Flush();
        memory.Sample();
        PeakManagedBytes = memory.PeakManaged;
        PeakWorkingSetBytes = memory.PeakWorkingSet;
        if (memory.PeakManaged > maxManagedBytes)
        {
            Fail(Outcome.Memory, -1, $"peak managed heap {memory.PeakManaged / (1024 * 1024)} MiB", "peak heap over bound", null);
        }

        foreach (var ex in unobserved.Seen)
        {
            UnobservedTaskExceptions++;
            string key = Signature(ex);
            Unobserved[key] = Unobserved.GetValueOrDefault(key) + 1;
            if (!FuzzChecks.IsTyped(ex))
            {
                Fail(Outcome.Untyped, -1, $"unobserved task exception {ex.GetType().FullName}: {ex.Message}", "unobserved " + key, null);
            }
        }

        foreach (var (signature, count) in logs.Counts)
        {
            LoggedUntyped[signature] = count;
        }
    }
}


/// <summary>Samples the managed heap and the working set every few milliseconds (transient peaks included).</summary>
internal sealed class MemorySampler : IDisposable
{
    private readonly Timer _timer;
    private long _peakManaged;
    private long _peakWorkingSet;

    public MemorySampler()
    {
        Sample();
        _timer = new Timer(_ => Sample(), null, 5, 5);
    }

    public long PeakManaged => Interlocked.Read(ref _peakManaged);

    public long PeakWorkingSet => Interlocked.Read(ref _peakWorkingSet);

    public void Sample()
    {
        long managed = GC.GetTotalMemory(false);
        long ws = Environment.WorkingSet;
        InterlockedMax(ref _peakManaged, managed);
        InterlockedMax(ref _peakWorkingSet, ws);
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while (value > (current = Interlocked.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    public void Dispose() => _timer.Dispose();
}

/// <summary>Counts unobserved task exceptions raised while a fuzz run is active (process-wide hook).</summary>
internal sealed class UnobservedTaskWatch : IDisposable
{
    private readonly ConcurrentQueue<Exception> _seen = new();

    public UnobservedTaskWatch() => TaskScheduler.UnobservedTaskException += OnUnobserved;

    public IReadOnlyCollection<Exception> Seen => _seen;

    /// <summary>Collects garbage so that faulted, unobserved tasks are finalized and reported.</summary>
    public static void Flush()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
    {
        foreach (var inner in e.Exception.Flatten().InnerExceptions)
        {
            if (inner.StackTrace?.Contains("Streams.Client", StringComparison.Ordinal) == true || inner.TargetSite?.DeclaringType?.Namespace?.StartsWith("Streams.Client", StringComparison.Ordinal) == true)
            {
                _seen.Enqueue(inner);
            }
        }
    }

    public void Dispose() => TaskScheduler.UnobservedTaskException -= OnUnobserved;
}

/// <summary>A logger factory that counts exceptions the client logs (and swallows) which are not typed client exceptions.</summary>
internal sealed class UntypedLogCounter : ILoggerFactory, ILogger
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, int> Counts => _counts;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (exception is not null && !FuzzChecks.IsTyped(exception))
        {
            _counts.AddOrUpdate(FuzzReport.Signature(exception), 1, (_, n) => n + 1);
        }
    }

    public void Dispose()
    {
    }
}

internal static class FuzzChecks
{
    /// <summary>What the client may surface to a user: its own exception hierarchy, or a cancellation.</summary>
    public static bool IsTyped(Exception ex) => ex is StreamClientException or OperationCanceledException;
}
