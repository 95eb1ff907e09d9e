using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Streams.Testing;

namespace Streams.Hosting.AspNetCore.Tests.Operations;

/// <summary>MapRabbitStreamsOperations over HTTP against a host consuming from the real broker.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class OperationsEndpointsTests(BrokerFixture broker)
{
    private const string Consumer = OperationsApp.ConsumerName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Status_lists_consumers_producers_and_the_connection()
    {
        await using var app = await OperationsApp.StartAsync(broker);
        await app.PublishAsync(1);
        await app.WaitUntilAsync(() => app.Gate.Handled.Count == 1, "handled");
        await app.WaitUntilAsync(() => app.Lag() is not null, "lag measured");
        using var http = app.CreateClient();

        var status = await http.GetFromJsonAsync<JsonElement>("/streams", Ct);

        var consumer = Assert.Single(status.GetProperty("consumers").EnumerateArray());
        Assert.Equal(Consumer, consumer.GetProperty("name").GetString());
        Assert.Equal("Running", consumer.GetProperty("state").GetString());
        Assert.NotEmpty(consumer.GetProperty("lagHistory").EnumerateArray());
        var producer = Assert.Single(status.GetProperty("producers").EnumerateArray());
        Assert.Equal(app.Stream, producer.GetProperty("stream").GetString());
        Assert.Equal(1, producer.GetProperty("confirmed").GetInt64());
        Assert.Equal(0, producer.GetProperty("failed").GetInt64());
        Assert.True(TimeSpan.Parse(producer.GetProperty("lastConfirmLatency").GetString()!, System.Globalization.CultureInfo.InvariantCulture) > TimeSpan.Zero);
        Assert.Equal("Connected", status.GetProperty("connection").GetProperty("phase").GetString());
    }

    [Fact]
    public async Task A_failed_publish_shows_as_a_producer_error_even_without_a_producer()
    {
        await using var app = await OperationsApp.StartAsync(broker);
        var missing = BrokerFixture.UniqueName("aspnet-missing");
        var publisher = app.App.Services.GetRequiredService<IStreamPublisher>();
        await Assert.ThrowsAsync<StreamPublishException>(() => publisher.PublishAsync(missing, new Ping(1), cancellationToken: Ct));
        using var http = app.CreateClient();

        var status = await http.GetFromJsonAsync<JsonElement>("/streams", Ct);

        var producer = Assert.Single(status.GetProperty("producers").EnumerateArray(), p => p.GetProperty("stream").GetString() == missing);
        Assert.False(producer.GetProperty("isOpen").GetBoolean());
        Assert.Equal(1, producer.GetProperty("failed").GetInt64());
        Assert.Equal(0, producer.GetProperty("confirmed").GetInt64());
        Assert.False(string.IsNullOrEmpty(producer.GetProperty("lastError").GetString()));
    }

    [Fact]
    public async Task Consumer_detail_is_found_by_name_and_404_names_the_known_consumers()
    {
        await using var app = await OperationsApp.StartAsync(broker);
        using var http = app.CreateClient();

        var detail = await http.GetFromJsonAsync<JsonElement>($"/streams/consumers/{Consumer}", Ct);
        Assert.Equal(Consumer, detail.GetProperty("name").GetString());
        Assert.Equal(app.Stream, Assert.Single(detail.GetProperty("consumers").EnumerateArray()).GetProperty("stream").GetString());

        using var missing = await http.GetAsync("/streams/consumers/nobody", Ct);
        await AssertProblemAsync(missing, HttpStatusCode.NotFound, "nobody", Consumer);
    }

    [Fact]
    public async Task Pause_stops_handling_and_resume_continues_after_the_last_processed_message()
    {
        await using var app = await OperationsApp.StartAsync(broker);
        await app.PublishAsync(1);
        await app.WaitUntilAsync(() => app.Gate.Handled.Count == 1, "handled");
        using var http = app.CreateClient();

        using var paused = await http.PostAsync($"/streams/consumers/{Consumer}/pause", null, Ct);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        var detail = await paused.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("Paused", Assert.Single(detail.GetProperty("consumers").EnumerateArray()).GetProperty("state").GetString());
        Assert.Equal(StreamConsumerState.Paused, app.Consumer.State);

        await app.PublishAsync(2);
        using var resumed = await http.PostAsync($"/streams/consumers/{Consumer}/resume", null, Ct);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        await app.WaitUntilAsync(() => app.Gate.Handled.Count == 2, "the message published while paused is handled after resume");
        Assert.Equal([1, 2], app.Gate.Handled.Select(h => h.Number));
        Assert.Equal(StreamConsumerState.Running, app.Consumer.State);
    }

    [Fact]
    public async Task Pause_all_and_resume_all_steer_every_named_consumer()
    {
        await using var app = await OperationsApp.StartAsync(broker);
        using var http = app.CreateClient();

        using var paused = await http.PostAsync("/streams/pause", null, Ct);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.Equal(StreamConsumerState.Paused, app.Consumer.State);
        var status = await paused.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("Paused", Assert.Single(status.GetProperty("consumers").EnumerateArray()).GetProperty("state").GetString());

        using var resumed = await http.PostAsync("/streams/resume", null, Ct);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        await app.WaitUntilAsync(() => app.Consumer.State == StreamConsumerState.Running, "resumed");
    }

    [Fact]
    public async Task Rewind_to_first_replays_the_stream_and_to_an_offset_replays_from_there()
    {
        await using var app = await OperationsApp.StartAsync(broker);
        for (var i = 1; i <= 3; i++)
        {
            await app.PublishAsync(i);
        }

        await app.WaitUntilAsync(() => app.Gate.Handled.Count == 3, "handled");
        using var http = app.CreateClient();

        using var rewound = await http.PostAsync($"/streams/consumers/{Consumer}/rewind?to=first", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, rewound.StatusCode);
        await app.WaitUntilAsync(() => app.Gate.Handled.Count == 6, "the stream is handled again from its first message");
        Assert.Equal([1, 2, 3, 1, 2, 3], app.Gate.Handled.Select(h => h.Number));

        var second = app.Gate.Handled[1].Offset;
        using var toOffset = await http.PostAsync($"/streams/consumers/{Consumer}/rewind?to=offset:{second}", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, toOffset.StatusCode);
        await app.WaitUntilAsync(() => app.Gate.Handled.Count == 8, "handled again from the offset");
        Assert.Equal([2, 3], app.Gate.Handled.Skip(6).Select(h => h.Number));
    }

    [Theory]
    [InlineData("?to=yesterday", "yesterday")]
    [InlineData("?to=offset:-1", "offset:-1")]
    [InlineData("?to=timestamp:not-a-date", "not-a-date")]
    [InlineData("", "'to' query parameter")]
    public async Task A_bad_rewind_target_is_a_400_problem_and_changes_nothing(string query, string mentioned)
    {
        await using var app = await OperationsApp.StartAsync(broker);
        await app.PublishAsync(1);
        await app.WaitUntilAsync(() => app.Gate.Handled.Count == 1, "handled");
        using var http = app.CreateClient();

        using var response = await http.PostAsync($"/streams/consumers/{Consumer}/rewind{query}", null, Ct);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, mentioned);
        Assert.Equal(StreamConsumerState.Running, app.Consumer.State);
        Assert.Single(app.Gate.Handled);
    }

    [Theory]
    [InlineData("pause")]
    [InlineData("resume")]
    [InlineData("rewind?to=first")]
    public async Task An_unknown_consumer_is_a_404_problem(string action)
    {
        await using var app = await OperationsApp.StartAsync(broker);
        using var http = app.CreateClient();

        using var response = await http.PostAsync($"/streams/consumers/nobody/{action}", null, Ct);

        await AssertProblemAsync(response, HttpStatusCode.NotFound, "nobody", Consumer);
    }

    internal static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, params string[] mentioned)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        var detail = problem.GetProperty("detail").GetString();
        foreach (var text in mentioned)
        {
            Assert.Contains(text, detail, StringComparison.Ordinal);
        }
    }
}
