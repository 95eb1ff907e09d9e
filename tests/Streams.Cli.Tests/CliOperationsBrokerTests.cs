using System.Text;
using Streams.Client;
using Streams.Hosting;
using Streams.Testing;

namespace Streams.Cli.Tests;

/// <summary>Issue 17, item 6: dlq replay, consumers, offsets set and offsets query --lag against the real broker.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class CliOperationsBrokerTests(BrokerFixture fixture)
{
    private string Uri => $"rabbitmq-stream://{fixture.Endpoint.UserName}:{fixture.Endpoint.Password}@{fixture.Endpoint.Host}:{fixture.Endpoint.Port}/%2f";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<CliResult> RunAsync(params string[] args) => CliRun.RunAsync([.. args, "--uri", Uri]);

    private Task<StreamSystem> ConnectAsync() => StreamSystem.ConnectAsync(StreamSystemOptions.FromUri(Uri), Ct);

    [Fact]
    public async Task Dlq_replay_dry_run_sends_nothing_a_move_sends_each_dead_letter_once_and_a_second_run_nothing_new()
    {
        var target = BrokerFixture.UniqueName("cli-replay");
        var dlq = target + ".dlq";
        await using var system = await ConnectAsync();
        await system.CreateStreamAsync(target, null, Ct);
        await system.CreateStreamAsync(dlq, null, Ct);
        await using (var producer = await system.CreateProducerAsync(new ProducerOptions(dlq), Ct))
        {
            foreach (var body in new[] { "d-0", "d-1" })
            {
                await producer.SendAsync(new Message(Encoding.UTF8.GetBytes(body))
                {
                    ApplicationProperties = new Dictionary<string, object?>
                    {
                        [DeadLetterHeaders.OriginalStream] = target,
                        [DeadLetterHeaders.ExceptionType] = "System.InvalidOperationException",
                        ["tenant"] = "acme",
                    },
                }, Ct);
            }
        }

        var result = await RunAsync("dlq", "replay", dlq, "--dry-run", "--move");
        Assert.Equal(0, result.Code);
        Assert.Equal([$"{dlq}: replayed=2 already_replayed=0 filtered=0 first_offset=0 last_offset=1 (dry run: nothing sent)", $"-> {target}: 2"], result.Lines);
        Assert.Null((await system.GetStreamStatisticsAsync(target, Ct)).CommittedChunkId);

        result = await RunAsync("dlq", "replay", dlq, "--move");
        Assert.Equal(0, result.Code);
        Assert.Equal([$"{dlq}: replayed=2 already_replayed=0 filtered=0 first_offset=0 last_offset=1", $"-> {target}: 2"], result.Lines);
        var replayed = await ReadAllAsync(system, target);
        Assert.Equal(["d-0", "d-1"], replayed.Select(m => Encoding.UTF8.GetString(m.Body.Span)));
        Assert.All(replayed, m => Assert.Equal((1, "acme", false), (m.ApplicationProperties![DeadLetterHeaders.ReplayCount], m.ApplicationProperties["tenant"], m.ApplicationProperties.ContainsKey(DeadLetterHeaders.ExceptionType))));

        // A copy of the same range: deduplicated. A move: starts after the last move, nothing left.
        result = await RunAsync("dlq", "replay", dlq, "--from-offset", "0");
        Assert.Equal((0, $"{dlq}: replayed=0 already_replayed=2 filtered=0 first_offset=0 last_offset=1"), (result.Code, result.Output.Trim()));
        result = await RunAsync("dlq", "replay", dlq, "--move");
        Assert.Equal((0, $"{dlq}: replayed=0 already_replayed=0 filtered=0 first_offset=- last_offset=-"), (result.Code, result.Output.Trim()));
        Assert.Equal(2, (await ReadAllAsync(system, target)).Count);

        // The move's progress is a consumer name of the dead-letter stream: nothing left to move.
        result = await RunAsync("consumers", dlq, "--name", DeadLetterReplayOptions.TrackingName);
        Assert.Equal(0, result.Code);
        Assert.Equal([dlq, DeadLetterReplayOptions.TrackingName, "1", "1", "0"], result.Lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));

        result = await RunAsync("dlq", "replay", BrokerFixture.UniqueName("cli-replay-missing.dlq"));
        Assert.Equal(1, result.Code);
        Assert.Contains("StreamDoesNotExistException", result.Error, StringComparison.Ordinal);
        result = await RunAsync("dlq", "replay", dlq, "--to", BrokerFixture.UniqueName("cli-replay-missing"));
        Assert.Equal(1, result.Code);
        Assert.Contains("replay target", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consumers_and_offsets_query_lag_show_each_names_stored_offset_last_offset_and_lag_per_partition_and_offsets_set_applies_to_all_or_none()
    {
        var superStream = BrokerFixture.UniqueName("cli-consumers");
        Assert.Equal(0, (await RunAsync("create", "--super-stream", superStream, "--partitions", "2")).Code);
        Assert.Equal(0, (await RunAsync("publish", "--stream", $"{superStream}-0", "--count", "4")).Code);
        Assert.Equal(0, (await RunAsync("publish", "--stream", $"{superStream}-1", "--count", "3")).Code);
        Assert.Equal(0, (await RunAsync("offsets", "store", "--stream", $"{superStream}-0", "--name", "billing", "--offset", "1")).Code);

        var result = await RunAsync("consumers", superStream, "--name", "billing", "--name", "audit");
        Assert.Equal(0, result.Code);
        Assert.Equal(
            [
                ["STREAM", "CONSUMER", "STORED_OFFSET", "LAST_OFFSET", "LAG"],
                [$"{superStream}-0", "billing", "1", "3", "2"],
                [$"{superStream}-0", "audit", "-", "3", "-"],
                [$"{superStream}-1", "billing", "-", "2", "-"],
                [$"{superStream}-1", "audit", "-", "2", "-"],
            ],
            result.Lines.Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)));

        // Not counted: the offset distance, marked as an upper bound.
        result = await RunAsync("consumers", $"{superStream}-0", "--name", "billing", "--count-limit", "0");
        Assert.Equal([$"{superStream}-0", "billing", "1", "3", "~2"], result.Lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));

        result = await RunAsync("offsets", "query", "--super-stream", superStream, "--name", "billing", "--lag");
        Assert.Equal(0, result.Code);
        Assert.Equal([$"{superStream}-0: name=billing offset=1 last_offset=3 lag=2", $"{superStream}-1: name=billing offset=- last_offset=2 lag=-"], result.Lines);

        // offsets set on a super stream: every partition, or none when one cannot be rewound (both start at offset 0).
        result = await RunAsync("offsets", "set", superStream, "--name", "billing", "--to", "first");
        Assert.Equal(2, result.Code);
        Assert.Contains("offset 0 cannot be rewound to", result.Error, StringComparison.Ordinal);
        await using (var system = await ConnectAsync())
        {
            Assert.Equal(1UL, await system.QueryOffsetAsync("billing", $"{superStream}-0", Ct));
            Assert.Null(await system.QueryOffsetAsync("billing", $"{superStream}-1", Ct));
        }

        result = await RunAsync("offsets", "set", superStream, "--name", "billing", "--to", "offset:1");
        Assert.Equal(2, result.Code);
        Assert.Contains("is a super stream", result.Error, StringComparison.Ordinal);
        result = await RunAsync("offsets", "set", superStream, "--name", "billing", "--to", "last");
        Assert.Equal(0, result.Code);
        Assert.Equal([$"{superStream}-0: name=billing offset=3 resumes_at=4", $"{superStream}-1: name=billing offset=2 resumes_at=3"], result.Lines);
        result = await RunAsync("consumers", superStream, "--name", "billing");
        Assert.Equal(["0", "0"], result.Lines.Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]));

        result = await RunAsync("consumers", BrokerFixture.UniqueName("cli-consumers-missing"), "--name", "billing");
        Assert.Equal(1, result.Code);
        Assert.Contains("is neither a stream nor a super stream", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Offsets_set_rewinds_a_name_to_an_offset_last_or_a_time_and_refuses_what_a_stored_offset_cannot_express()
    {
        var stream = BrokerFixture.UniqueName("cli-rewind");
        Assert.Equal(0, (await RunAsync("create", "--stream", stream)).Code);
        var result = await RunAsync("offsets", "set", stream, "--name", "n", "--to", "last");
        Assert.Equal(2, result.Code);
        Assert.Contains("holds no message", result.Error, StringComparison.Ordinal);

        Assert.Equal(0, (await RunAsync("publish", "--stream", stream, "--count", "3", "--body", "m{seq}")).Code);
        await using var system = await ConnectAsync();
        var firstBatch = (await StreamEnd.ProbeAsync(system, stream, TimeSpan.FromSeconds(10), Ct))!.ChunkTimestamp;
        var between = firstBatch.AddMilliseconds(1);
        // The next chunk's timestamp must be after `between` (the broker stamps chunks in milliseconds).
        while (DateTimeOffset.UtcNow <= between.AddMilliseconds(2))
        {
            await Task.Yield();
        }

        Assert.Equal(0, (await RunAsync("publish", "--stream", stream, "--count", "3", "--body", "n{seq}")).Code);

        result = await RunAsync("offsets", "set", stream, "--name", "n", "--to", "offset:4");
        Assert.Equal((0, $"{stream}: name=n offset=3 resumes_at=4"), (result.Code, result.Output.Trim()));
        result = await RunAsync("tail", "--stream", stream, "--name", "n", "--until-end");
        Assert.Equal(["n2", "n3"], result.Lines.Select(l => l.Split('\t')[^1]));

        result = await RunAsync("offsets", "set", stream, "--name", "n", "--to", $"timestamp:{between:O}");
        Assert.Equal((0, $"{stream}: name=n offset=2 resumes_at=3"), (result.Code, result.Output.Trim()));
        result = await RunAsync("offsets", "set", stream, "--name", "n", "--to", "last");
        Assert.Equal((0, $"{stream}: name=n offset=5 resumes_at=6"), (result.Code, result.Output.Trim()));
        result = await RunAsync("offsets", "set", stream, "--name", "n", "--to", "timestamp:2100-01-01T00:00:00Z");
        Assert.Equal((0, $"{stream}: name=n offset=5 resumes_at=6"), (result.Code, result.Output.Trim()));
        Assert.Equal(5UL, await system.QueryOffsetAsync("n", stream, Ct));

        foreach (var to in new[] { "first", "offset:0", "timestamp:2000-01-01T00:00:00Z" })
        {
            result = await RunAsync("offsets", "set", stream, "--name", "n", "--to", to);
            Assert.Equal(2, result.Code);
            Assert.Contains("offset 0 cannot be rewound to", result.Error, StringComparison.Ordinal);
        }

        result = await RunAsync("offsets", "set", stream, "--name", "n", "--to", "offset:100");
        Assert.Equal(2, result.Code);
        Assert.Contains("past the end", result.Error, StringComparison.Ordinal);
        Assert.Equal(5UL, await system.QueryOffsetAsync("n", stream, Ct));

        result = await RunAsync("offsets", "set", BrokerFixture.UniqueName("cli-rewind-missing"), "--name", "n", "--to", "last");
        Assert.Equal(1, result.Code);
    }

    private static async Task<List<Message>> ReadAllAsync(StreamSystem system, string stream)
    {
        var end = await StreamEnd.ProbeAsync(system, stream, TimeSpan.FromSeconds(10), Ct);
        var read = new List<Message>();
        if (end is null)
        {
            return read;
        }

        await using var consumer = await system.CreateConsumerAsync(new ConsumerOptions(stream) { Offset = OffsetSpecification.First }, Ct);
        await foreach (var delivery in consumer.ReadAllAsync(Ct))
        {
            read.Add(delivery.DecodeMessage());
            if (delivery.Offset >= end.LastOffset)
            {
                break;
            }
        }

        return read;
    }
}
