using System.Diagnostics;

namespace Streams.Hosting.Perf;

/// <summary>The rate of one consume run, measured from the first message to the last, and the bytes read.</summary>
internal readonly record struct ConsumeRun(double Rate, long Bytes, TimeSpan Elapsed, ResourceWindow Resources);

/// <summary>
/// Garbage collections, managed allocations and CPU time (whole process) between the first and the last message. CPU
/// per message is steadier than the rate on a shared machine: it does not depend on how the scheduler placed the
/// broker and the client.
/// </summary>
internal readonly record struct ResourceWindow(int Gen0, int Gen1, int Gen2, long Allocated, TimeSpan Cpu, TimeSpan KernelCpu, TimeSpan Paused, long JitMethods, TimeSpan JitTime)
{
    public static ResourceWindow Now()
    {
        var cpu = Environment.CpuUsage;
        return new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalAllocatedBytes(), cpu.TotalTime, cpu.PrivilegedTime, GC.GetTotalPauseDuration(),
            System.Runtime.JitInfo.GetCompiledMethodCount(), System.Runtime.JitInfo.GetCompilationTime());
    }

    public ResourceWindow Since(ResourceWindow start) =>
        new(Gen0 - start.Gen0, Gen1 - start.Gen1, Gen2 - start.Gen2, Allocated - start.Allocated, Cpu - start.Cpu, KernelCpu - start.KernelCpu, Paused - start.Paused, JitMethods - start.JitMethods, JitTime - start.JitTime);

    public double CpuNanosecondsPerMessage(long messages) => Cpu.TotalNanoseconds / Math.Max(1, messages);

    public string Describe(long messages) =>
        System.FormattableString.Invariant(
            $"CPU {CpuNanosecondsPerMessage(messages):F0} ns/msg (kernel {KernelCpu.TotalNanoseconds / Math.Max(1, messages):F0}), GC {Gen0}/{Gen1}/{Gen2} paused {Paused.TotalMilliseconds:F1} ms, {(double)Allocated / Math.Max(1, messages):F0} B/msg allocated, JIT {JitMethods} methods in {JitTime.TotalMilliseconds:F0} ms");
}

/// <summary>
/// Counts messages and body bytes until <see cref="Target"/>; used the same way by the raw loop and the hosted
/// handler, so both paths pay the same counting cost. One writer at a time (the raw loop, or a handler with
/// <c>MaxConcurrency</c> 1); <see cref="Count"/> may be read from any thread.
/// </summary>
internal sealed class MessageCounter(long target, TimeSpan work = default)
{
    private readonly long _workTicks = (long)(work.TotalSeconds * Stopwatch.Frequency);

    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _count;
    private long _bytes;
    private long _first;
    private long _last;
    private ResourceWindow _gcFirst;
    private ResourceWindow _gcLast;

    public long Target => target;

    public long Count => Volatile.Read(ref _count);

    /// <summary>Completes when the target is reached.</summary>
    public Task Done => _done.Task;

    /// <summary>Counts one message; true once the target is reached (later messages are ignored).</summary>
    public bool Add(int bytes)
    {
        if (_workTicks > 0)
        {
            // Stands for the application's own work per message (--work-us): spins, so it costs CPU like real work.
            var until = Stopwatch.GetTimestamp() + _workTicks;
            while (Stopwatch.GetTimestamp() < until)
            {
                Thread.SpinWait(8);
            }
        }

        var count = _count + 1;
        if (count > target)
        {
            return true;
        }

        if (count == 1)
        {
            _gcFirst = ResourceWindow.Now();
            _first = Stopwatch.GetTimestamp();
        }

        _bytes += bytes;
        Volatile.Write(ref _count, count);
        if (count < target)
        {
            return false;
        }

        _last = Stopwatch.GetTimestamp();
        _gcLast = ResourceWindow.Now();
        _done.TrySetResult();
        return true;
    }

    /// <summary>The run's figures; call after <see cref="Done"/>.</summary>
    public ConsumeRun Result()
    {
        var elapsed = Stopwatch.GetElapsedTime(_first, _last);
        return new ConsumeRun((target - 1) / elapsed.TotalSeconds, _bytes, elapsed, _gcLast.Since(_gcFirst));
    }

    /// <summary>
    /// Waits for <paramref name="completion"/>, failing with <see cref="TimeoutException"/> (and cancelling
    /// <paramref name="cancelOnStall"/>) when no message was counted for <paramref name="stallTimeout"/>.
    /// </summary>
    public async Task WaitAsync(Task completion, string what, TimeSpan stallTimeout, CancellationTokenSource? cancelOnStall, CancellationToken cancellationToken)
    {
        var last = -1L;
        while (!completion.IsCompleted)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var now = Count;
            if (now == last)
            {
                await (cancelOnStall?.CancelAsync() ?? Task.CompletedTask);
                throw new TimeoutException($"{what}: no message for {stallTimeout.TotalSeconds:F0} s, stalled at {now:N0} of {target:N0}");
            }

            last = now;
            await Task.WhenAny(completion, Task.Delay(stallTimeout, cancellationToken));
        }

        await completion;
    }
}

/// <summary>
/// The hosted consumer under test: an application's <c>[StreamConsumer]</c> handler of raw bodies, activated per
/// message from a DI scope like any handler the application does not register itself.
/// </summary>
[StreamConsumer("configured-by-the-harness", Offset = StreamOffset.First)]
internal sealed class CountingHandler(MessageCounter counter) : IStreamHandler<byte[]>
{
    public Task HandleAsync(byte[] message, StreamContext context, CancellationToken cancellationToken)
    {
        counter.Add(message.Length);
        return Task.CompletedTask;
    }
}

/// <summary>The batch variant (<c>--batch</c>): an <c>IStreamBatchHandler&lt;byte[]&gt;</c> that counts every message of a batch.</summary>
[StreamConsumer("configured-by-the-harness", Offset = StreamOffset.First)]
internal sealed class CountingBatchHandler(MessageCounter counter) : IStreamBatchHandler<byte[]>
{
    public Task HandleAsync(IReadOnlyList<StreamMessage<byte[]>> messages, CancellationToken cancellationToken)
    {
        foreach (var message in messages)
        {
            counter.Add(message.Message.Length);
        }

        return Task.CompletedTask;
    }
}
