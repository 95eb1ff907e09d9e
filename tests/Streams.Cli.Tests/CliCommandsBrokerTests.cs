using System.Globalization;
using System.Text.Json;
using Streams.Client;
using Streams.Testing;

namespace Streams.Cli.Tests;

/// <summary>Issue 18: create, delete, stats, sequence, offsets and tail --until-end against the real broker.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class CliCommandsBrokerTests(BrokerFixture fixture)
{
    private string Uri => $"rabbitmq-stream://{fixture.Endpoint.UserName}:{fixture.Endpoint.Password}@{fixture.Endpoint.Host}:{fixture.Endpoint.Port}/%2f";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<CliResult> RunAsync(params string[] args) => CliRun.RunAsync([.. args, "--uri", Uri]);

    private Task<StreamSystem> ConnectAsync() => StreamSystem.ConnectAsync(StreamSystemOptions.FromUri(Uri), Ct);

    [Fact]
    public async Task Create_sets_the_retention_arguments_and_delete_removes_the_stream()
    {
        var stream = BrokerFixture.UniqueName("cli-create");
        string[] create = ["create", "--stream", stream, "--max-age", "7d", "--max-length-bytes", "1_000_000_000", "--max-segment-size-bytes", "50000000",
            "--filter-size-bytes", "32", "--leader-locator", "client-local", "--initial-cluster-size", "1"];
        var result = await RunAsync(create);
        Assert.Equal(0, result.Code);
        Assert.StartsWith($"created stream {stream} (", result.Output, StringComparison.Ordinal);

        using (var management = new ManagementClient(fixture.Endpoint.ManagementUri, fixture.Endpoint.UserName, fixture.Endpoint.Password))
        {
            var queue = await management.GetQueueAsync(stream, Ct);
            var arguments = queue!.Value.GetProperty("arguments");
            Assert.Equal("604800s", arguments.GetProperty("x-max-age").GetString());
            Assert.Equal(1_000_000_000, arguments.GetProperty("x-max-length-bytes").GetInt64());
            Assert.Equal(50_000_000, arguments.GetProperty("x-stream-max-segment-size-bytes").GetInt64());
            Assert.Equal(32, arguments.GetProperty("x-stream-filter-size-bytes").GetInt32());
            Assert.Equal("client-local", arguments.GetProperty("x-queue-leader-locator").GetString());
        }

        // The same arguments again: nothing to do; other arguments: the broker refuses.
        result = await RunAsync(create);
        Assert.Equal(0, result.Code);
        Assert.StartsWith($"stream {stream} already exists", result.Output, StringComparison.Ordinal);
        result = await RunAsync("create", "--stream", stream, "--max-age", "1d");
        Assert.Equal(1, result.Code);
        Assert.Contains("StreamAlreadyExistsWithDifferentArgumentsException", result.Error, StringComparison.Ordinal);

        result = await RunAsync("delete", "--stream", stream);
        Assert.Equal((0, $"deleted stream {stream}"), (result.Code, result.Output.Trim()));
        await using (var system = await ConnectAsync())
        {
            Assert.False(await system.StreamExistsAsync(stream, Ct));
        }

        result = await RunAsync("delete", "--stream", stream);
        Assert.Equal(1, result.Code);
        Assert.Contains("StreamDoesNotExistException", result.Error, StringComparison.Ordinal);
        result = await RunAsync("delete", "--stream", stream, "--if-exists");
        Assert.Equal((0, $"stream {stream} does not exist"), (result.Code, result.Output.Trim()));
    }

    [Fact]
    public async Task Create_makes_super_streams_by_partition_count_or_binding_keys_and_delete_removes_their_partitions()
    {
        var byCount = BrokerFixture.UniqueName("cli-super-n");
        var byKeys = BrokerFixture.UniqueName("cli-super-keys");
        var result = await RunAsync("create", "--super-stream", byCount, "--partitions", "2", "--max-age", "1h");
        Assert.Equal(0, result.Code);
        Assert.StartsWith($"created super stream {byCount}: partitions [{byCount}-0,{byCount}-1]", result.Output, StringComparison.Ordinal);
        result = await RunAsync("create", "--super-stream", byKeys, "--binding-keys", "eu,us");
        Assert.Equal(0, result.Code);

        await using var system = await ConnectAsync();
        Assert.Equal([$"{byKeys}-eu", $"{byKeys}-us"], await system.QueryPartitionsAsync(byKeys, Ct));
        Assert.Equal([$"{byKeys}-us"], await system.QueryRouteAsync("us", byKeys, Ct));

        // Default: 3 partitions.
        var byDefault = BrokerFixture.UniqueName("cli-super-default");
        Assert.Equal(0, (await RunAsync("create", "--super-stream", byDefault)).Code);
        Assert.Equal(3, (await system.QueryPartitionsAsync(byDefault, Ct)).Count);

        foreach (var superStream in new[] { byCount, byKeys, byDefault })
        {
            result = await RunAsync("delete", "--super-stream", superStream);
            Assert.Equal((0, $"deleted super stream {superStream}"), (result.Code, result.Output.Trim()));
        }

        Assert.False(await system.StreamExistsAsync($"{byKeys}-eu", Ct));
        Assert.False(await system.StreamExistsAsync($"{byCount}-1", Ct));
    }

    [Fact]
    public async Task Stats_counts_messages_which_are_not_offsets_once_offsets_are_stored()
    {
        var stream = BrokerFixture.UniqueName("cli-stats");
        Assert.Equal(0, (await RunAsync("create", "--stream", stream)).Code);
        var result = await RunAsync("stats", "--stream", stream);
        Assert.Equal(0, result.Code);
        Assert.Matches(@"^cli-stats-[0-9a-f]+: first_offset=- last_offset=- messages=0 committed_chunk_id=- last_chunk_id=- leader=", result.Output);

        Assert.Equal(0, (await RunAsync("publish", "--stream", stream, "--count", "3")).Code);
        Assert.Equal(0, (await RunAsync("offsets", "store", "--stream", stream, "--name", "reader", "--offset", "2")).Code);
        Assert.Equal(0, (await RunAsync("publish", "--stream", stream, "--count", "2")).Code);
        result = await RunAsync("stats", "--stream", stream);
        Assert.Equal(0, result.Code);
        // Offsets 0-2 and 4-5 are messages; offset 3 is the stored offset's tracking chunk. The broker may write the
        // last two messages as one chunk (id 4) or two (4 and 5): publish does not fix the chunking.
        Assert.Matches(@": first_offset=0 last_offset=5 messages=5 committed_chunk_id=[45] last_chunk_id=[45] leader=", result.Output);

        // Past the bound the count is not taken.
        result = await RunAsync("stats", "--stream", stream, "--count-limit", "5");
        Assert.Matches(@": first_offset=0 last_offset=5 messages=- ", result.Output);
        result = await RunAsync("stats", "--stream", stream, "--count-limit", "6");
        Assert.Matches(@" messages=5 ", result.Output);
    }

    [Fact]
    public async Task Sequence_shows_the_last_publishing_id_of_a_producer_name()
    {
        var stream = BrokerFixture.UniqueName("cli-sequence");
        var result = await RunAsync("publish", "--stream", stream, "--count", "5", "--producer-name", "orders-api");
        Assert.Equal(0, result.Code);
        result = await RunAsync("sequence", "--stream", stream, "--name", "orders-api");
        Assert.Equal(0, result.Code);
        var first = LastPublishingId(result.Output, stream, "orders-api");

        Assert.Equal(0, (await RunAsync("publish", "--stream", stream, "--count", "3", "--producer-name", "orders-api")).Code);
        result = await RunAsync("sequence", "--stream", stream, "--name", "orders-api");
        Assert.Equal(first + 3, LastPublishingId(result.Output, stream, "orders-api"));

        await using (var system = await ConnectAsync())
        {
            Assert.Equal(await system.QueryPublisherSequenceAsync("orders-api", stream, Ct), first + 3);
        }

        result = await RunAsync("sequence", "--stream", stream, "--name", "nobody");
        Assert.Equal($"{stream}: name=nobody last_publishing_id=0", result.Output.Trim());
    }

    [Fact]
    public async Task Offsets_store_then_query_and_a_named_tail_resumes_after_the_stored_offset()
    {
        var stream = BrokerFixture.UniqueName("cli-offsets");
        Assert.Equal(0, (await RunAsync("publish", "--stream", stream, "--count", "6", "--body", "m{seq}")).Code);
        var result = await RunAsync("offsets", "query", "--stream", stream, "--name", "billing");
        Assert.Equal((0, $"{stream}: name=billing offset=-"), (result.Code, result.Output.Trim()));

        result = await RunAsync("offsets", "store", "--stream", stream, "--name", "billing", "--offset", "3");
        Assert.Equal((0, $"{stream}: name=billing offset=3"), (result.Code, result.Output.Trim()));
        result = await RunAsync("offsets", "query", "--stream", stream, "--name", "billing");
        Assert.Equal($"{stream}: name=billing offset=3", result.Output.Trim());
        await using (var system = await ConnectAsync())
        {
            Assert.Equal(3UL, await system.QueryOffsetAsync("billing", stream, Ct));
        }

        result = await RunAsync("tail", "--stream", stream, "--name", "billing", "--until-end");
        Assert.Equal(0, result.Code);
        Assert.Equal(["m5", "m6"], result.Lines.Select(l => l.Split('\t')[^1]));

        result = await RunAsync("offsets", "store", "--stream", BrokerFixture.UniqueName("cli-offsets-missing"), "--name", "billing", "--offset", "1");
        Assert.Equal(1, result.Code);
    }

    [Theory]
    [InlineData("snappy", CompressionType.Snappy)]
    [InlineData("lz4", CompressionType.Lz4)]
    [InlineData("zstd", CompressionType.Zstd)]
    [InlineData("gzip", CompressionType.Gzip)]
    public async Task Perf_publish_writes_compressed_sub_entries_and_tail_reads_every_codec(string name, CompressionType codec)
    {
        // What perf publish --compression writes: sub-entry batches the broker stores compressed.
        var stream = BrokerFixture.UniqueName($"cli-codec-{name}");
        var result = await RunAsync("perf", "publish", "--stream", stream, "--count", "50", "--size", "20", "--sub-entry", "10", "--compression", name);
        Assert.Equal(0, result.Code);
        Assert.Contains($"workload=publish-sub-entry-10-{name}", result.Output, StringComparison.Ordinal);
        Assert.Equal(50, (await RunAsync("tail", "--stream", stream, "--until-end")).Lines.Length);

        // What another client writes with that codec: tail decompresses it (a client without the codec could not).
        var written = BrokerFixture.UniqueName($"cli-codec-{name}-client");
        var options = StreamSystemOptions.FromUri(Uri);
        Streams.Client.Compression.CompressionStreamSystemOptionsExtensions.AddAllCompressionCodecs(options);
        await using (var system = await StreamSystem.ConnectAsync(options, Ct))
        {
            await system.CreateStreamAsync(written, null, Ct);
            await using var producer = await system.CreateProducerAsync(new ProducerOptions(written), Ct);
            await producer.SendSubEntryAsync([.. Enumerable.Range(0, 5).Select(i => new Message(System.Text.Encoding.UTF8.GetBytes($"{name}-{i}")))], codec, Ct);
        }

        result = await RunAsync("tail", "--stream", written, "--until-end");
        Assert.Equal(0, result.Code);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"{name}-{i}"), result.Lines.Select(l => l.Split('\t')[^1]));
    }

    [Fact]
    public async Task Tail_until_end_on_an_empty_stream_exits_at_once()
    {
        var stream = BrokerFixture.UniqueName("cli-until-empty");
        Assert.Equal(0, (await RunAsync("create", "--stream", stream)).Code);
        var result = await RunAsync("tail", "--stream", stream, "--until-end");
        Assert.Equal((0, string.Empty), (result.Code, result.Output));
    }

    [Fact]
    public async Task Tail_until_end_prints_through_the_last_chunk_and_stops_before_later_messages()
    {
        var stream = BrokerFixture.UniqueName("cli-until");
        await using var system = await ConnectAsync();
        await system.CreateStreamAsync(stream, null, Ct);
        await using (var producer = await system.CreateProducerAsync(new ProducerOptions(stream), Ct))
        {
            // One batch: the last chunk holds several records, so the end is inside a chunk, not at its id.
            await producer.SendBatchAsync([.. Enumerable.Range(1, 10).Select(i => new Message(System.Text.Encoding.UTF8.GetBytes($"m{i}")))], Ct);
        }

        var stats = await system.GetStreamStatisticsAsync(stream, Ct);
        Assert.True(stats.CommittedChunkId < 9, $"the last chunk should hold several messages: {stats}");

        var result = await RunAsync("tail", "--stream", stream, "--until-end", "--format", "json");
        Assert.Equal(0, result.Code);
        var bodies = result.Lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("body").GetString()).ToList();
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"m{i}"), bodies);

        Assert.Equal(["m5", "m6", "m7", "m8", "m9", "m10"], (await RunAsync("tail", "--stream", stream, "--until-end", "--from", "4")).Lines.Select(l => l.Split('\t')[^1]));
        Assert.Equal(["m1", "m2"], (await RunAsync("tail", "--stream", stream, "--until-end", "--count", "2")).Lines.Select(l => l.Split('\t')[^1]));
        Assert.Empty((await RunAsync("tail", "--stream", stream, "--until-end", "--from", "next")).Lines);
        Assert.Empty((await RunAsync("tail", "--stream", stream, "--until-end", "--from", "10")).Lines);
        Assert.Empty((await RunAsync("tail", "--stream", stream, "--until-end", "--from", DateTimeOffset.UtcNow.AddHours(1).ToString("O", CultureInfo.InvariantCulture))).Lines);

        // A stored offset (a tracking chunk) after the messages does not move the end, nor do later messages once tail started.
        await system.StoreOffsetAsync("someone", stream, 3, Ct);
        Assert.Equal(10, (await RunAsync("tail", "--stream", stream, "--until-end")).Lines.Length);
    }

    [Fact]
    public async Task Tail_until_end_with_a_filter_reads_to_the_end_and_prints_the_matches()
    {
        var stream = BrokerFixture.UniqueName("cli-until-filter");
        Assert.Equal(0, (await RunAsync("create", "--stream", stream, "--filter-size-bytes", "32")).Code);
        Assert.Equal(0, (await RunAsync("publish", "--stream", stream, "--count", "2", "--amqp", "--body", "red{seq}", "--filter", "red")).Code);
        Assert.Equal(0, (await RunAsync("publish", "--stream", stream, "--count", "3", "--amqp", "--body", "blue{seq}", "--filter", "blue")).Code);
        var result = await RunAsync("tail", "--stream", stream, "--filter", "red", "--until-end");
        Assert.Equal(0, result.Code);
        Assert.Equal(["red1", "red2"], result.Lines.Select(l => l.Split('\t')[^1]));
    }

    [Fact]
    public async Task Tail_until_end_on_a_super_stream_reads_every_partition_to_its_end()
    {
        var superStream = BrokerFixture.UniqueName("cli-until-super");
        Assert.Equal(0, (await RunAsync("create", "--super-stream", superStream, "--partitions", "3")).Code);
        Assert.Equal(0, (await RunAsync("publish", "--super-stream", superStream, "--count", "10", "--routing-key", "hello{seq}", "--body", "m{seq}")).Code);
        var result = await RunAsync("tail", "--super-stream", superStream, "--until-end", "--format", "json");
        Assert.Equal(0, result.Code);
        var bodies = result.Lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("body").GetString()!).Order(StringComparer.Ordinal);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"m{i}").Order(StringComparer.Ordinal), bodies);
    }

    private static ulong LastPublishingId(string output, string stream, string name)
    {
        var line = output.Trim();
        var prefix = $"{stream}: name={name} last_publishing_id=";
        Assert.StartsWith(prefix, line, StringComparison.Ordinal);
        return ulong.Parse(line[prefix.Length..], CultureInfo.InvariantCulture);
    }
}
