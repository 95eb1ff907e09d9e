using System.Text.Json;
using System.Xml.Linq;
using Streams.Testing;

namespace Streams.Samples.Tests;

/// <summary>The <c>dotnet new streams-worker</c> template, checked the way a user with the published packages uses it.</summary>
[Collection(BrokerCollection.Name)]
public sealed class TemplateTests(BrokerFixture fixture)
{
    [Fact]
    public void The_template_references_Streams_Hosting_at_the_version_this_repository_packs()
    {
        var props = XDocument.Load(Path.Combine(SampleProcess.RepositoryRoot, "Directory.Build.props"));
        var version = props.Descendants("Version").Single().Value;
        using var template = JsonDocument.Parse(File.ReadAllText(Path.Combine(SampleProcess.RepositoryRoot, "templates/streams-worker/.template.config/template.json")));
        var root = template.RootElement;
        Assert.Equal("streams-worker", root.GetProperty("shortName").GetString());
        Assert.Equal(version, root.GetProperty("symbols").GetProperty("StreamsHostingVersion").GetProperty("defaultValue").GetString());
        var project = File.ReadAllText(Path.Combine(SampleProcess.RepositoryRoot, "templates/streams-worker/StreamsWorker/StreamsWorker.csproj"));
        Assert.Contains("<PackageReference Include=\"Streams.Hosting\" Version=\"STREAMS_HOSTING_VERSION\" />", project, StringComparison.Ordinal);
    }

    /// <summary>
    /// scripts/template-check.sh: pack into a local feed, <c>dotnet new install</c>, instantiate, restore with the feed,
    /// build, and run the generated test project against the broker. Packs what this test run was built from.
    /// </summary>
    [Fact]
    public async Task The_template_installs_instantiates_builds_and_passes_its_own_test_against_the_broker()
    {
        await using var check = SampleProcess.StartCommand("bash",
            [Path.Combine(SampleProcess.RepositoryRoot, "scripts/template-check.sh"), "--configuration", SampleProcess.Configuration, "--no-build"],
            new Dictionary<string, string> { ["RABBITMQ_STREAM_URI"] = fixture.Uri() },
            SampleProcess.RepositoryRoot);
        await check.WaitForExitAsync(TimeSpan.FromMinutes(5));
        Assert.True(check.ExitCode == 0, check.Output);
        Assert.Contains("Passed Acme.Billing.Tests.WorkItemHandlerTests.", check.Output, StringComparison.Ordinal);
        Assert.Contains("== template-check: ok", check.Output, StringComparison.Ordinal);
    }
}
