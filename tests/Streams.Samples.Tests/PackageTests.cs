using System.IO.Compression;
using System.Xml.Linq;

namespace Streams.Samples.Tests;

/// <summary>
/// <c>./build.sh pack</c>: every library, the <c>streams</c> tool and the template pack in one folder feed, each package
/// with a readme, the MIT license, a description, tags and the commit it was built from, without a pack warning; the
/// tool installs from that feed. The feed is packed once per test run (<see cref="PackedFeed"/>).
/// </summary>
public sealed class PackageTests
{
    /// <summary>The packages with a symbol package (everything with build output: all but the template pack).</summary>
    public static TheoryData<string> Packages() => [.. PackedFeed.ExpectedPackages];

    [Fact]
    public async Task Pack_lists_every_package_and_warns_about_nothing()
    {
        var feed = await PackedFeed.GetPackedAsync();
        foreach (var id in PackedFeed.ExpectedPackages)
        {
            Assert.Contains($"  {id}.{PackedFeed.RepositoryVersion}.nupkg", feed.Output, StringComparison.Ordinal);
            Assert.True(File.Exists(feed.Package(id)), $"{feed.Package(id)} is missing:\n{feed.Output}");
        }

        Assert.DoesNotContain("warning", feed.Output, StringComparison.OrdinalIgnoreCase);
        var packed = Directory.GetFiles(feed.Directory, "*.nupkg").Select(Path.GetFileName).Order(StringComparer.Ordinal);
        var expected = PackedFeed.ExpectedPackages.Select(id => $"{id}.{PackedFeed.RepositoryVersion}.nupkg").Order(StringComparer.Ordinal);
        Assert.Equal(expected, packed);
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public async Task Each_package_has_a_readme_the_license_a_description_tags_and_its_commit(string id)
    {
        var feed = await PackedFeed.GetPackedAsync();
        using var package = ZipFile.OpenRead(feed.Package(id));
        var nuspec = Nuspec(package, id);
        XNamespace ns = nuspec.Root!.Name.Namespace;
        var metadata = nuspec.Root.Element(ns + "metadata")!;
        string? Value(string name) => metadata.Element(ns + name)?.Value;

        Assert.Equal(id, Value("id"));
        Assert.Equal(PackedFeed.RepositoryVersion, Value("version"));
        Assert.False(string.IsNullOrWhiteSpace(Value("description")));
        Assert.Contains("rabbitmq", Value("tags") ?? "", StringComparison.Ordinal);

        var license = metadata.Element(ns + "license")!;
        Assert.Equal("expression", license.Attribute("type")?.Value);
        Assert.Equal("MIT", license.Value);
        Assert.Equal(File.ReadAllText(Path.Combine(SampleProcess.RepositoryRoot, "LICENSE")), Text(package, "LICENSE"));

        Assert.Equal("README.md", Value("readme"));
        var readme = Text(package, "README.md");
        Assert.StartsWith("# ", readme, StringComparison.Ordinal);
        Assert.Contains("```", readme, StringComparison.Ordinal); // an example
        var install = id switch
        {
            "Streams.Cli" => "dotnet tool install --global Streams.Cli",
            "Streams.Hosting.Templates" => "dotnet new install Streams.Hosting.Templates",
            _ => "dotnet add package " + id,
        };
        Assert.Contains(install, readme, StringComparison.Ordinal);

        // No invented URLs: the repository has no public one, so only SourceLink's (the clone's origin) may appear.
        var text = nuspec.ToString();
        Assert.DoesNotContain("example.invalid", text, StringComparison.OrdinalIgnoreCase);
        Assert.Null(metadata.Element(ns + "projectUrl"));
        var repository = metadata.Element(ns + "repository");
        var head = Git("rev-parse", "HEAD");
        if (head is not null)
        {
            Assert.NotNull(repository);
            Assert.Equal("git", repository.Attribute("type")?.Value);
            Assert.Equal(head, repository.Attribute("commit")?.Value);
            var origin = Git("remote", "get-url", "origin");
            if (origin is not null && origin.StartsWith("https://", StringComparison.Ordinal))
            {
                Assert.StartsWith(origin.EndsWith(".git", StringComparison.Ordinal) ? origin[..^4] : origin, repository.Attribute("url")?.Value, StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public async Task Each_package_with_build_output_has_a_symbol_package(string id)
    {
        var feed = await PackedFeed.GetPackedAsync();
        var symbols = feed.Package(id, "snupkg");
        if (id == "Streams.Hosting.Templates")
        {
            Assert.False(File.Exists(symbols), "the template pack has no build output, so no symbols");
            return;
        }

        using var package = ZipFile.OpenRead(symbols);
        var pdbs = package.Entries.Where(e => e.FullName.EndsWith(".pdb", StringComparison.Ordinal)).Select(e => Path.GetFileName(e.FullName)).ToList();
        Assert.Contains(id == "Streams.Cli" ? "streams.pdb" : id + ".pdb", pdbs);
    }

    [Fact]
    public async Task The_streams_tool_installs_from_the_feed_and_prints_its_version()
    {
        var feed = await PackedFeed.GetPackedAsync();
        var work = Directory.CreateTempSubdirectory("streams-tool-");
        try
        {
            // Only the feed (never nuget.org or a cached Streams.Cli of the same version).
            var config = Path.Combine(work.FullName, "nuget.config");
            File.WriteAllText(config, $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="local" value="{feed.Directory}" />
                  </packageSources>
                </configuration>
                """);
            var tools = Path.Combine(work.FullName, "tools");
            var environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(work.FullName, "packages") };
            await using (var install = SampleProcess.StartCommand("dotnet",
                ["tool", "install", "Streams.Cli", "--version", PackedFeed.RepositoryVersion, "--tool-path", tools, "--configfile", config],
                environment, work.FullName))
            {
                await install.WaitForExitAsync(TimeSpan.FromMinutes(3));
                Assert.True(install.ExitCode == 0, install.Output);
                Assert.True(File.Exists(Path.Combine(tools, "streams")), $"no streams command in {tools}:\n{install.Output}");
            }

            await using var version = SampleProcess.StartCommand(Path.Combine(tools, "streams"), ["--version"], environment, work.FullName);
            await version.WaitForExitAsync(TimeSpan.FromMinutes(1));
            Assert.True(version.ExitCode == 0, version.Output);
            Assert.StartsWith(PackedFeed.RepositoryVersion, version.Output.Trim(), StringComparison.Ordinal);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static XDocument Nuspec(ZipArchive package, string id)
    {
        var entry = package.GetEntry(id + ".nuspec") ?? throw new InvalidOperationException($"{id}: no {id}.nuspec");
        using var stream = entry.Open();
        return XDocument.Load(stream);
    }

    private static string Text(ZipArchive package, string path)
    {
        var entry = package.GetEntry(path);
        Assert.True(entry is not null, $"the package has no {path}");
        using var reader = new StreamReader(entry.Open());
        return reader.ReadToEnd();
    }

    private static string? Git(params string[] arguments)
    {
        var info = new System.Diagnostics.ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = SampleProcess.RepositoryRoot,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        try
        {
            using var git = System.Diagnostics.Process.Start(info)!;
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no git: not a clone, no commit to compare
        }
    }
}
