namespace Streams.Samples.Tests;

/// <summary>
/// The folder feed <c>./build.sh pack --no-build</c> makes from what this test run was built from, packed once per test
/// process and shared by the tests that need packages (<see cref="PackageTests"/>, <see cref="TemplateTests"/>); removed
/// when the process exits.
/// </summary>
public sealed class PackedFeed
{
    private static readonly Lazy<Task<PackedFeed>> Packed = new(PackAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    private PackedFeed(string directory, int exitCode, string output)
    {
        Directory = directory;
        ExitCode = exitCode;
        Output = output;
    }

    /// <summary>Every package <c>./build.sh pack</c> must produce (its <c>pack_projects</c>).</summary>
    public static IReadOnlyList<string> ExpectedPackages { get; } =
    [
        "Streams.Client",
        "Streams.Client.Compression",
        "Streams.Hosting",
        "Streams.Hosting.AspNetCore",
        "Streams.Hosting.OpenTelemetry",
        "Streams.Hosting.Testing",
        "Streams.Cli",
        "Streams.Hosting.Templates",
    ];

    /// <summary>The feed folder.</summary>
    public string Directory { get; }

    /// <summary>The exit code of <c>./build.sh pack</c>.</summary>
    public int ExitCode { get; }

    /// <summary>Everything <c>./build.sh pack</c> printed.</summary>
    public string Output { get; }

    /// <summary>The feed, packed by the first caller.</summary>
    public static Task<PackedFeed> GetAsync() => Packed.Value;

    /// <summary>The feed, failing the calling test when the pack failed.</summary>
    public static async Task<PackedFeed> GetPackedAsync()
    {
        var feed = await GetAsync();
        Assert.True(feed.ExitCode == 0, $"./build.sh pack exited with {feed.ExitCode}:\n{feed.Output}");
        return feed;
    }

    /// <summary>The path of a package of this repository's version in the feed.</summary>
    public string Package(string id, string extension = "nupkg") => Path.Combine(Directory, $"{id}.{RepositoryVersion}.{extension}");

    /// <summary>The version Directory.Build.props gives every package.</summary>
    public static string RepositoryVersion { get; } =
        System.Xml.Linq.XDocument.Load(Path.Combine(SampleProcess.RepositoryRoot, "Directory.Build.props")).Descendants("Version").Single().Value;

    private static async Task<PackedFeed> PackAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "streams-packages-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                System.IO.Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        await using var pack = SampleProcess.StartCommand(
            "bash",
            [Path.Combine(SampleProcess.RepositoryRoot, "build.sh"), "pack", "--no-build", "--configuration", SampleProcess.Configuration, "--output", directory],
            new Dictionary<string, string> { ["MSBUILDDISABLENODEREUSE"] = "1", ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0", ["UseSharedCompilation"] = "false" },
            SampleProcess.RepositoryRoot);
        await pack.WaitForExitAsync(TimeSpan.FromMinutes(10));
        return new PackedFeed(directory, pack.ExitCode ?? -1, pack.Output);
    }
}
