using System.Text.Json;
using Streams.Cli.Output;
using Streams.Client;
using Streams.Testing;

namespace Streams.Cli.Tests;

/// <summary>The CLI against the real broker, through the same entry point as the `streams` executable.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class CliBrokerTests(BrokerFixture fixture)
{
    private string Uri => $"rabbitmq-stream://{fixture.Endpoint.UserName}:{fixture.Endpoint.Password}@{fixture.Endpoint.Host}:{fixture.Endpoint.Port}/%2f";

    private async Task<(int Code, string Output)> RunAsync(params string[] args)
    {
        var result = await CliRun.RunAsync([.. args, "--uri", Uri]);
        return (result.Code, result.Output);
    }

    [Fact]
    public async Task Publish_then_tail_as_json_shows_bodies_properties_and_typed_application_properties()
    {
        var stream = BrokerFixture.UniqueName("cli");
        var (code, output) = await RunAsync("publish", "--stream", stream, "--count", "3", "--amqp", "--body", "hello {seq}",
            "--message-id", "m-{seq}", "--correlation-id", "c-1", "--content-type", "text/plain",
            "--property", "n={seq}", "--property", "ok=true", "--property", "who=x{seq}");
        Assert.Equal(0, code);
        Assert.Contains("published 3 messages", output, StringComparison.Ordinal);

        (code, output) = await RunAsync("tail", "--stream", stream, "--from", "first", "--count", "3", "--format", "json");
        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        for (var i = 0; i < 3; i++)
        {
            using var json = JsonDocument.Parse(lines[i]);
            var root = json.RootElement;
            Assert.Equal(i, root.GetProperty("offset").GetInt32());
            Assert.Equal($"hello {i + 1}", root.GetProperty("body").GetString());
            Assert.Equal($"m-{i + 1}", root.GetProperty("properties").GetProperty("messageId").GetString());
            Assert.Equal("c-1", root.GetProperty("properties").GetProperty("correlationId").GetString());
            Assert.Equal("text/plain", root.GetProperty("properties").GetProperty("contentType").GetString());
            var app = root.GetProperty("applicationProperties");
            Assert.Equal(i + 1, app.GetProperty("n").GetInt32());
            Assert.True(app.GetProperty("ok").GetBoolean());
            Assert.Equal($"x{i + 1}", app.GetProperty("who").GetString());
        }
    }

    [Fact]
    public async Task Raw_binary_bodies_are_shown_as_base64_and_tail_starts_at_an_offset()
    {
        var stream = BrokerFixture.UniqueName("cli-raw");
        Assert.Equal(0, (await RunAsync("publish", "--stream", stream, "--count", "4", "--body", "line {seq}")).Code);

        var (code, output) = await RunAsync("tail", "--stream", stream, "--from", "2", "--count", "2");
        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("2\t", lines[0], StringComparison.Ordinal);
        Assert.EndsWith("line 3", lines[0], StringComparison.Ordinal);
        Assert.EndsWith("line 4", lines[1], StringComparison.Ordinal);

        var json = DeliveryFormatter.Json(0, DateTimeOffset.UnixEpoch, new byte[] { 0xff, 0xfe, 0x00 });
        Assert.Contains("\"bodyBase64\":\"//4A\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tail_shows_entries_that_are_not_AMQP_as_their_bytes_and_marks_corrupt_AMQP()
    {
        var stream = BrokerFixture.UniqueName("cli-lenient");
        var ct = TestContext.Current.CancellationToken;
        byte[] corrupt = [0x00, 0x53, 0x75, 0xb0, 0x00, 0x00, 0x00, 0x10, 0x01, 0x02]; // a data section cut short
        await using (var system = await StreamSystem.ConnectAsync(StreamSystemOptions.FromUri(Uri), ct))
        {
            await system.CreateStreamAsync(stream, null, ct);
            await using var producer = await system.CreateProducerAsync(new ProducerOptions(stream), ct);
            // Raw entries, as the Python client rstream's binary codec writes them, then AMQP, then corrupt AMQP.
            await producer.SendAsync(System.Text.Encoding.UTF8.GetBytes("Hello, World!"), ct);
            await producer.SendAsync(new byte[] { 0x00, 0xff }, ct);
            await producer.SendAsync(new Message(System.Text.Encoding.UTF8.GetBytes("amqp")) { Properties = new() { MessageId = "m-1" } }, ct);
            await producer.SendAsync(corrupt, ct);
        }

        try
        {
            var (code, output) = await RunAsync("tail", "--stream", stream, "--count", "4");
            Assert.Equal(0, code);
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(4, lines.Length);
            Assert.Matches(@"^0\t[^\t]+\tHello, World!$", lines[0]);
            Assert.Matches(@"^1\t[^\t]+\tbase64:AP8=$", lines[1]);
            Assert.Matches(@"^2\t[^\t]+\tmessage-id=m-1\tamqp$", lines[2]);
            Assert.Matches(@"^3\t[^\t]+\tinvalid-amqp\tbase64:" + System.Text.RegularExpressions.Regex.Escape(Convert.ToBase64String(corrupt)) + "$", lines[3]);

            (code, output) = await RunAsync("tail", "--stream", stream, "--count", "4", "--format", "json");
            Assert.Equal(0, code);
            var roots = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(["raw", "raw", "amqp", "invalid-amqp"], roots.Select(r => r.GetProperty("format").GetString()));
            Assert.Equal("Hello, World!", roots[0].GetProperty("body").GetString());
            Assert.Equal("AP8=", roots[1].GetProperty("bodyBase64").GetString());
            Assert.Equal("amqp", roots[2].GetProperty("body").GetString());
            Assert.Equal("m-1", roots[2].GetProperty("properties").GetProperty("messageId").GetString());
            Assert.Equal(Convert.ToBase64String(corrupt), roots[3].GetProperty("bodyBase64").GetString());
        }
        finally
        {
            await using var system = await StreamSystem.ConnectAsync(StreamSystemOptions.FromUri(Uri), ct);
            await system.DeleteStreamAsync(stream, ct);
        }
    }

    [Fact]
    public async Task Bad_input_is_a_usage_error()
    {
        Assert.Equal(2, (await RunAsync("publish", "--count", "1")).Code);
        Assert.Equal(2, (await RunAsync("publish", "--stream", "s", "--size", "10", "--body", "x")).Code);
        Assert.Equal(2, (await RunAsync("publish", "--stream", "s", "--message-id", "x")).Code);
        Assert.Equal(2, (await RunAsync("perf", "sideways")).Code);
        Assert.Equal(2, (await RunAsync("frobnicate")).Code);
        // Found after parsing, against the broker: still bad input.
        Assert.Equal(2, (await RunAsync("perf", "consume", "--stream", BrokerFixture.UniqueName("cli-missing"))).Code);
        // The broker refusing is a failure.
        Assert.Equal(1, (await RunAsync("delete", "--stream", BrokerFixture.UniqueName("cli-missing"))).Code);
    }

    [Fact]
    public async Task Perf_publish_and_consume_print_a_result_line()
    {
        var stream = BrokerFixture.UniqueName("cli-perf");
        var (code, output) = await RunAsync("perf", "publish", "--stream", stream, "--count", "2000", "--size", "50");
        Assert.Equal(0, code);
        Assert.Matches(@"RESULT workload=publish msgs=2000 seconds=[0-9.]+ msgs_per_s=[0-9]+ alloc_bytes_per_msg=[0-9.]+", output);

        (code, output) = await RunAsync("perf", "consume", "--stream", stream, "--count", "2000");
        Assert.Equal(0, code);
        Assert.Matches(@"RESULT workload=consume msgs=2000 seconds=[0-9.]+ msgs_per_s=[0-9]+ alloc_bytes_per_msg=[0-9.]+", output);

        (code, output) = await RunAsync("perf", "latency", "--stream", stream + "-lat", "--count", "500", "--rate", "5000");
        Assert.Equal(0, code);
        Assert.Matches(@"RESULT workload=latency msgs=500 seconds=[0-9.]+ rate=5000 confirm_p50_us=[0-9]+ confirm_p99_us=[0-9]+ p50_us=[0-9]+ p99_us=[0-9]+", output);
    }

    [Fact]
    public async Task Super_stream_publish_routes_by_key_and_tail_and_stats_cover_every_partition()
    {
        var superStream = BrokerFixture.UniqueName("cli-super");
        await using (var system = await StreamSystem.ConnectAsync(StreamSystemOptions.FromUri(Uri), TestContext.Current.CancellationToken))
        {
            await system.CreateSuperStreamAsync(superStream, 3, cancellationToken: TestContext.Current.CancellationToken);
        }

        var (code, output) = await RunAsync("publish", "--super-stream", superStream, "--count", "10", "--routing-key", "hello{seq}", "--body", "m{seq}");
        Assert.Equal(0, code);
        Assert.Contains("published 10 messages to super stream", output, StringComparison.Ordinal);

        (code, output) = await RunAsync("stats", "--super-stream", superStream);
        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.All(lines, l => Assert.Matches(@"-[012]: first_offset=0 last_offset=[0-9]+ messages=[34] committed_chunk_id=[0-9]+ last_chunk_id=[0-9]+ leader=localhost:5552", l));
        Assert.Equal(10, lines.Sum(l => int.Parse(System.Text.RegularExpressions.Regex.Match(l, "messages=([0-9]+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));

        (code, output) = await RunAsync("tail", "--super-stream", superStream, "--count", "10", "--format", "json");
        Assert.Equal(0, code);
        var byPartition = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .ToLookup(e => e.GetProperty("stream").GetString()!, e => e.GetProperty("body").GetString()!);
        // protocol.md §7 vectors: hello2, 5, 7, 9 -> 0; hello1, 3, 8 -> 1; hello4, 6, 10 -> 2.
        Assert.Equal(["m2", "m5", "m7", "m9"], byPartition[$"{superStream}-0"]);
        Assert.Equal(["m1", "m3", "m8"], byPartition[$"{superStream}-1"]);
        Assert.Equal(["m4", "m6", "m10"], byPartition[$"{superStream}-2"]);
    }

    [Fact]
    public async Task Tail_filter_shows_only_the_matching_messages()
    {
        var stream = BrokerFixture.UniqueName("cli-filter");
        Assert.Equal(0, (await RunAsync("publish", "--stream", stream, "--count", "3", "--amqp", "--body", "red{seq}", "--filter", "red")).Code);
        Assert.Equal(0, (await RunAsync("publish", "--stream", stream, "--count", "3", "--amqp", "--body", "blue{seq}", "--filter", "blue")).Code);
        Assert.Equal(0, (await RunAsync("publish", "--stream", stream, "--count", "2", "--amqp", "--body", "red-again{seq}", "--filter", "red")).Code);

        var (code, output) = await RunAsync("tail", "--stream", stream, "--filter", "red", "--count", "5");
        Assert.Equal(0, code);
        var bodies = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')[^1]).ToList();
        Assert.Equal(["red1", "red2", "red3", "red-again1", "red-again2"], bodies);
    }

    [Fact]
    public async Task Tail_as_a_single_active_consumer_needs_a_group_name()
    {
        Assert.Equal(2, (await RunAsync("tail", "--stream", "s", "--single-active-consumer")).Code);
        Assert.Equal(2, (await RunAsync("tail", "--stream", "s", "--super-stream", "ss")).Code);
        Assert.Equal(2, (await RunAsync("publish", "--stream", "s", "--routing-key", "k")).Code);
        var stream = BrokerFixture.UniqueName("cli-sac");
        Assert.Equal(0, (await RunAsync("publish", "--stream", stream, "--count", "2", "--body", "x{seq}")).Code);
        var (code, output) = await RunAsync("tail", "--stream", stream, "--single-active-consumer", "--name", "cli-group", "--count", "2");
        Assert.Equal(0, code);
        Assert.EndsWith("x2", output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Publish_uses_an_existing_stream_whatever_its_arguments_and_creates_a_missing_super_stream()
    {
        var ct = TestContext.Current.CancellationToken;
        var stream = BrokerFixture.UniqueName("cli-existing");
        var superStream = BrokerFixture.UniqueName("cli-new-super");
        await using (var system = await StreamSystem.ConnectAsync(StreamSystemOptions.FromUri(Uri), ct))
        {
            await system.CreateStreamAsync(stream, new Streams.Client.StreamSpec { MaxAge = TimeSpan.FromDays(7) }, ct);
        }

        Assert.Equal(0, (await RunAsync("publish", "--stream", stream, "--count", "2")).Code);
        Assert.Equal(0, (await RunAsync("publish", "--super-stream", superStream, "--partitions", "2", "--count", "4")).Code);
        var (code, output) = await RunAsync("stats", "--super-stream", superStream);
        Assert.Equal(0, code);
        Assert.Equal(2, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }
}
