using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Streams.Hosting.Tests.DependencyInjection;

/// <summary>
/// Issue 14, trap 8: the READMEs name only exception types that exist (one named <c>StreamDeletedException</c> where the
/// code threw <c>StreamDoesNotExistException</c>, so users caught the wrong one). Every <c>`…Exception`</c> in the
/// READMEs must be a public exception type of our packages or of the framework.
/// </summary>
public sealed partial class DocumentedExceptionTests
{
    [GeneratedRegex("`(?<name>[A-Z][A-Za-z]*Exception)`")]
    private static partial Regex ExceptionName();

    [GeneratedRegex(@"public (?:sealed |abstract )?(?:partial )?class (?<name>[A-Z][A-Za-z]*Exception)\b")]
    private static partial Regex PublicExceptionClass();

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Streams.Hosting.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Streams.Hosting.sln above {AppContext.BaseDirectory}.");
    }

    [Fact]
    public void Every_exception_the_readmes_name_exists()
    {
        var root = RepositoryRoot();
        var readmes = new[] { "README.md", "samples/README.md" }
            .Concat(Directory.GetDirectories(Path.Combine(root, "src")).Select(d => Path.Combine(Path.GetFileName(d), "README.md")).Select(p => "src/" + p))
            .Where(p => File.Exists(Path.Combine(root, p)))
            .ToArray();
        // The framework's exceptions, and every public exception class declared in src/ (also of the packages this
        // test assembly does not reference, such as Streams.Hosting.Testing).
        var known = new[] { typeof(OptionsValidationException), typeof(OperationCanceledException) }
            .SelectMany(t => t.Assembly.GetExportedTypes())
            .Where(t => typeof(Exception).IsAssignableFrom(t))
            .Select(t => t.Name)
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                .SelectMany(f => PublicExceptionClass().Matches(File.ReadAllText(f)).Select(m => m.Groups["name"].Value)))
            .ToHashSet(StringComparer.Ordinal);

        var named = readmes
            .SelectMany(p => ExceptionName().Matches(File.ReadAllText(Path.Combine(root, p))).Select(m => (File: p, Name: m.Groups["name"].Value)))
            .ToArray();

        Assert.Contains(named, n => n.Name == "StreamDeletedException");
        Assert.Empty(named.Where(n => !known.Contains(n.Name)).Select(n => $"{n.File}: {n.Name}"));
    }
}
