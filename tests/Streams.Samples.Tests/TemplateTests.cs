using System.Text.Json;
using System.Xml.Linq;
using Streams.Testing;

namespace Streams.Samples.Tests;

/// <summary>
/// The <c>dotnet new streams-worker</c> and <c>dotnet new streams-webapi</c> templates, checked the way a user with the
/// published packages uses them.
/// </summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class TemplateTests(BrokerFixture fixture)
{
    [Theory]
    [InlineData("streams-worker", "StreamsWorker/StreamsWorker.csproj", new[] { "Streams.Hosting" })]
    [InlineData("streams-webapi", "StreamsWebApi/StreamsWebApi.csproj", new[] { "Streams.Hosting", "Streams.Hosting.OpenTelemetry" })]
    public void The_template_references_Streams_Hosting_at_the_version_this_repository_packs(string template, string project, string[] packages)
    {
        var props = XDocument.Load(Path.Combine(SampleProcess.RepositoryRoot, "Directory.Build.props"));
        var version = props.Descendants("Version").Single().Value;
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(SampleProcess.RepositoryRoot, "templates", template, ".template.config/template.json")));
        var root = json.RootElement;
        Assert.Equal(template, root.GetProperty("shortName").GetString());
        Assert.Equal(version, root.GetProperty("symbols").GetProperty("StreamsHostingVersion").GetProperty("defaultValue").GetString());
        var text = File.ReadAllText(Path.Combine(SampleProcess.RepositoryRoot, "templates", template, project));
        foreach (var package in packages)
        {
            Assert.Contains($"<PackageReference Include=\"{package}\" Version=\"STREAMS_HOSTING_VERSION\" />", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_template_pack_packs_both_templates()
    {
        var pack = File.ReadAllText(Path.Combine(SampleProcess.RepositoryRoot, "templates/Streams.Hosting.Templates.csproj"));
        Assert.Contains("<Content Include=\"streams-worker/**/*\"", pack, StringComparison.Ordinal);
        Assert.Contains("<Content Include=\"streams-webapi/**/*\"", pack, StringComparison.Ordinal);
    }

    /// <summary>
    /// scripts/template-check.sh on the feed <c>./build.sh pack</c> made from what this test run was built from
    /// (<see cref="PackedFeed"/>, shared with <see cref="PackageTests"/>): <c>dotnet new install</c> the template pack,
    /// instantiate both templates, restore with the feed, build, and run each generated test project against RabbitMQ in
    /// Docker.
    /// </summary>
    [Fact]
    public async Task Both_templates_install_from_the_feed_instantiate_build_and_pass_their_own_tests()
    {
        var feed = await PackedFeed.GetPackedAsync();
        await using var check = SampleProcess.StartCommand("bash",
            [Path.Combine(SampleProcess.RepositoryRoot, "scripts/template-check.sh"), "--feed", feed.Directory],
            new Dictionary<string, string> { ["RABBITMQ_STREAM_URI"] = fixture.Uri() },
            SampleProcess.RepositoryRoot);
        await check.WaitForExitAsync(TimeSpan.FromMinutes(10));
        Assert.True(check.ExitCode == 0, check.Output);
        Assert.Contains("Passed Acme.Billing.Tests.WorkItemHandlerTests.", check.Output, StringComparison.Ordinal);
        Assert.Contains("Passed Acme.Storefront.Tests.ItemsApiTests.A_posted_item_is_published_handled_and_the_api_is_healthy", check.Output, StringComparison.Ordinal);
        Assert.Contains("Passed Acme.Storefront.Tests.ItemsApiTests.A_request_is_traced_through_the_publish_to_the_handler", check.Output, StringComparison.Ordinal);
        Assert.Contains("== template-check: streams-worker: ok", check.Output, StringComparison.Ordinal);
        Assert.Contains("== template-check: streams-webapi: ok", check.Output, StringComparison.Ordinal);
        Assert.Contains("== template-check: ok", check.Output, StringComparison.Ordinal);
    }
}
