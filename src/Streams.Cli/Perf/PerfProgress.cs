using System.Globalization;
using Streams.Cli.Cli;

namespace Streams.Cli.Perf;

/// <summary>
/// The progress line of a long <c>streams perf</c> run: on a terminal only (never in redirected output, where the
/// <c>RESULT</c> line stays the only line), shown after <see cref="Delay"/> and rewritten in place every
/// <see cref="Interval"/>; erased before the result is printed.
/// </summary>
internal sealed class PerfProgress : IDisposable
{
    public static readonly TimeSpan Delay = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    private readonly Lock _lock = new();
    private readonly TextWriter _output;
    private readonly string _workload;
    private readonly long _total;
    private readonly Func<long> _done;
    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly ITimer? _timer;
    private int _width;
    private bool _stopped;

    private PerfProgress(CliEnvironment env, string workload, long total, Func<long> done, TimeProvider time)
    {
        _output = env.Output;
        _workload = workload;
        _total = total;
        _done = done;
        _time = time;
        _started = time.GetTimestamp();
        _timer = env.Interactive ? time.CreateTimer(_ => Show(), null, Delay, Interval) : null;
    }

    /// <summary>Starts the line for <paramref name="total"/> messages, of which <paramref name="done"/> are done.</summary>
    public static PerfProgress Start(CliEnvironment env, string workload, long total, Func<long> done, TimeProvider? time = null) =>
        new(env, workload, total, done, time ?? TimeProvider.System);

    /// <summary>The text of the line for <paramref name="done"/> of <paramref name="total"/> after <paramref name="elapsed"/>.</summary>
    public static string Format(string workload, long done, long total, TimeSpan elapsed) => string.Create(CultureInfo.InvariantCulture,
        $"{workload}: {done:N0}/{total:N0} msgs ({(total == 0 ? 100 : done * 100 / total)}%) {(elapsed > TimeSpan.Zero ? done / elapsed.TotalSeconds : 0):N0} msgs/s");

    /// <summary>Stops the line and erases it.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            _timer?.Dispose();
            if (_width > 0)
            {
                _output.Write("\r" + new string(' ', _width) + "\r");
                _output.Flush();
            }
        }
    }

    private void Show()
    {
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            var line = Format(_workload, Math.Min(_done(), _total), _total, _time.GetElapsedTime(_started));
            _output.Write("\r" + line.PadRight(_width));
            _output.Flush();
            _width = Math.Max(_width, line.Length);
        }
    }
}
