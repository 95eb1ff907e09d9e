using System.Diagnostics;

namespace Streams.Testing;

/// <summary>Runs <c>scripts/rabbitmq.sh</c> of this repository (cluster, node and fault helpers).</summary>
public static class BrokerScript
{
    /// <summary>The repository root (the folder holding <c>scripts/rabbitmq.sh</c>).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>Runs the script with <paramref name="arguments"/>; throws with its output when it fails.</summary>
    public static async Task<string> RunAsync(string arguments, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var script = Path.Combine(RepositoryRoot, "scripts", "rabbitmq.sh");
        var info = new ProcessStartInfo("bash", $"{script} {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepositoryRoot,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start bash");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout ?? TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"scripts/rabbitmq.sh {arguments} did not finish in time");
        }

        var output = await stdout.ConfigureAwait(false);
        var errors = await stderr.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/rabbitmq.sh {arguments} exited with {process.ExitCode}:\n{output}\n{errors}");
        }

        return output;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "scripts", "rabbitmq.sh")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("scripts/rabbitmq.sh not found above " + AppContext.BaseDirectory);
    }
}
