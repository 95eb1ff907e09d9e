using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Streams.Testing;

namespace Streams.Hosting.AspNetCore.Tests.Dashboard;

/// <summary>The dashboard's server side over HTTP: the rendered page, its embedded assets, its actions.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class DashboardPageTests(BrokerFixture broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_page_is_rendered_on_the_server_with_the_consumers_and_a_strict_content_security_policy()
    {
        await using var app = await OperationsApp.StartAsync(broker);
        await app.PublishAsync(1);
        await app.WaitUntilAsync(() => app.Gate.Handled.Count == 1, "handled");
        using var http = app.CreateClient();

        using var response = await http.GetAsync("/streams/ui", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var csp = string.Join(';', response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        var html = await response.Content.ReadAsStringAsync(Ct);
        Assert.Contains($"data-consumer=\"{OperationsApp.ConsumerName}\"", html, StringComparison.Ordinal);
        Assert.Contains($"<td class=\"c-stream\">{app.Stream}</td>", html, StringComparison.Ordinal);
        Assert.Contains("state-Running", html, StringComparison.Ordinal);
        Assert.Contains("data-api=\"/streams/ui/api\"", html, StringComparison.Ordinal);
        Assert.Contains("<script src=\"/streams/ui/assets/dashboard.js\">", html, StringComparison.Ordinal);
        Assert.DoesNotContain("{{", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal); // no external resource
    }

    [Theory]
    [InlineData("dashboard.js", "text/javascript", "setInterval(refresh")]
    [InlineData("dashboard.css", "text/css", "svg.spark")]
    public async Task The_assets_are_served_from_the_assembly(string file, string mediaType, string content)
    {
        await using var app = await OperationsApp.StartAsync(broker);
        using var http = app.CreateClient();

        using var response = await http.GetAsync($"/streams/ui/assets/{file}", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(content, await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/streams/ui/assets/dashboard.html", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/streams/ui/assets/..%2Fsecrets.json", Ct)).StatusCode);
    }

    [Fact]
    public async Task The_dashboard_carries_its_own_actions_under_its_prefix()
    {
        await using var app = await OperationsApp.StartAsync(broker, web => web.MapRabbitStreamsDashboard("/ops/ui"));
        using var http = app.CreateClient();

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/streams", Ct)).StatusCode);
        using var paused = await http.PostAsync($"/ops/ui/api/consumers/{OperationsApp.ConsumerName}/pause", null, Ct);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.Equal(StreamConsumerState.Paused, app.Consumer.State);
        var status = await http.GetFromJsonAsync<JsonElement>("/ops/ui/api", Ct);
        Assert.Equal("Paused", Assert.Single(status.GetProperty("consumers").EnumerateArray()).GetProperty("state").GetString());
    }

    [Fact]
    public void A_refresh_interval_below_the_minimum_is_rejected()
    {
        var builder = WebApplication.CreateSlimBuilder();
        using var web = builder.Build();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => web.MapRabbitStreamsDashboard("/ui", o => o.RefreshInterval = TimeSpan.FromMilliseconds(10)));
        Assert.Contains("RefreshInterval", ex.Message, StringComparison.Ordinal);
    }
}
