using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace Streams.Samples.Tests;

/// <summary>Runs a built sample as its own process (<c>dotnet path/to/Sample.dll args</c>) and collects its output.</summary>
public sealed class SampleProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SampleProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The repository root (where Streams.Hosting.sln is).</summary>
    public static string RepositoryRoot { get; } = Metadata("RepositoryRoot");

    /// <summary>The built assembly of a sample project, e.g. <c>Samples/Tutorials/HelloWorld/Send</c> + <c>HelloWorld.Send</c>.</summary>
    public static string SampleAssembly(string projectDirectory, string assemblyName)
    {
        var path = Path.Combine(RepositoryRoot, projectDirectory, "bin", Metadata("Configuration"), Metadata("TargetFramework"), assemblyName + ".dll");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The sample is not built: {path}. Build the solution (or this test project) first.", path);
        }

        return path;
    }

    /// <summary>The configuration the tests (and so the samples) were built in.</summary>
    public static string Configuration { get; } = Metadata("Configuration");

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <remarks>
    /// Started through <c>env --default-signal=INT</c>: a test run launched in the background by a shell without job
    /// control inherits an ignored SIGINT, and .NET then leaves Ctrl+C ignored, so the samples could not be interrupted.
    /// </remarks>
    public static SampleProcess Start(string assembly, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null) =>
        StartCommand("env", ["--default-signal=INT", "dotnet", assembly, .. arguments], environment, workingDirectory ?? Path.GetDirectoryName(assembly)!);

    /// <summary>Starts any command; MSBuild and VSTest variables of the test run are not passed on (nested builds and test runs start clean).</summary>
    public static SampleProcess StartCommand(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment, string workingDirectory)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(key);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var sample = new SampleProcess(process);
        process.OutputDataReceived += (_, e) => sample.Append(e.Data);
        process.ErrorDataReceived += (_, e) => sample.Append(e.Data);
        process.Exited += (_, _) => sample._exited.TrySetResult();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return sample;
    }

    /// <summary>Runs a sample to completion and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string assembly, params string[] arguments)
    {
        await using var process = Start(assembly, arguments);
        await process.WaitForExitAsync(TimeSpan.FromMinutes(2));
        return (process._process.ExitCode, process.Output);
    }

    /// <summary>Waits for the process to exit; a hang guard (kills the process and fails), not a performance assertion.</summary>
    public async Task WaitForExitAsync(TimeSpan limit)
    {
        try
        {
            await _exited.Task.WaitAsync(limit, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            Kill();
            throw new TimeoutException($"The sample did not exit within {limit}. Output so far:\n{Output}");
        }

        _process.WaitForExit(TimeSpan.FromSeconds(10)); // flushes the redirected output (bounded: a leftover grandchild may hold the pipe)
    }

    /// <summary>Waits until the output contains <paramref name="text"/> (hang guard: fails after <paramref name="limit"/>).</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited)
            {
                _process.WaitForExit(TimeSpan.FromSeconds(10));
                if (Output.Contains(text, StringComparison.Ordinal))
                {
                    return;
                }

                throw new InvalidOperationException($"The sample exited ({_process.ExitCode}) without printing '{text}'. Output:\n{Output}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The sample did not print '{text}' within {limit}. Output so far:\n{Output}");
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Asks the process to stop as Ctrl+C would (SIGINT), then waits for it to exit.</summary>
    public async Task InterruptAsync(TimeSpan limit)
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        await WaitForExitAsync(limit);
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _output.AppendLine(line);
        }
    }

    private static string Metadata(string key) =>
        typeof(SampleProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"Assembly metadata {key} is missing.");
}
