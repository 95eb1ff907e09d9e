using System.Text.RegularExpressions;
using Streams.Client;
using Streams.Testing;

namespace Streams.Samples.Tests;

/// <summary>samples/Worker as its own process: super stream, single active consumer, dead-letter policy.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed partial class WorkerTests(BrokerFixture fixture)
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(1);

    private static string WorkerAssembly => SampleProcess.SampleAssembly("samples/Worker", "Worker");

    private SampleProcess StartWorker(string superStream, int publishOnStart) =>
        SampleProcess.Start(WorkerAssembly,
            ["--Invoices:SuperStream", superStream, "--Invoices:PublishOnStart", publishOnStart.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--RabbitStreams:ConnectionString", fixture.Uri()]);

    [Fact]
    public async Task Worker_processes_every_partition_dead_letters_the_invalid_invoice_and_resumes_after_a_restart()
    {
        var superStream = BrokerFixture.UniqueName("invoices");
        var ct = TestContext.Current.CancellationToken;
        try
        {
            string output;
            await using (var worker = StartWorker(superStream, publishOnStart: 10))
            {
                await worker.WaitForOutputAsync("Published 10 demo invoices", HangGuard);
                await WaitForProcessedAsync(worker, 9);
                await worker.WaitForOutputAsync($"was dead-lettered to '{superStream}-", HangGuard);
                await worker.InterruptAsync(HangGuard); // graceful stop: offsets are stored
                Assert.True(worker.ExitCode == 0, worker.Output);
                output = worker.Output;
            }

            // 9 valid invoices, from all three partitions, none twice.
            var processed = Processed(output);
            Assert.Equal(9, processed.Count);
            Assert.Equal(9, processed.Select(p => p.Id).Distinct().Count());
            Assert.Equal([$"{superStream}-0", $"{superStream}-1", $"{superStream}-2"], processed.Select(p => p.Partition).Distinct().Order());

            // The invalid one went to its partition's dead-letter stream, with the error in its headers.
            var deadLetterStream = Regex.Match(output, $"dead-lettered to '({Regex.Escape(superStream)}-\\d\\.dlq)'").Groups[1].Value;
            await using (var system = await fixture.ConnectAsync())
            await using (var consumer = await system.CreateConsumerAsync(new ConsumerOptions(deadLetterStream) { Offset = OffsetSpecification.First }, ct))
            {
                await foreach (var delivery in consumer.ReadAllAsync(ct))
                {
                    var message = delivery.DecodeMessage();
                    Assert.Equal("Worker.InvalidInvoiceException", message.ApplicationProperties!["x-exception-type"]);
                    Assert.Equal(deadLetterStream[..^".dlq".Length], message.ApplicationProperties["x-original-stream"]);
                    Assert.Contains("\"amount\":-1", System.Text.Encoding.UTF8.GetString(message.Body.Span), StringComparison.Ordinal);
                    break;
                }
            }

            // A restart resumes after the stored offsets: only the 3 new invoices are handled.
            await using (var worker = StartWorker(superStream, publishOnStart: 3))
            {
                await worker.WaitForOutputAsync("Published 3 demo invoices", HangGuard);
                await WaitForProcessedAsync(worker, 2);
                await worker.WaitForOutputAsync("was dead-lettered", HangGuard);
                await worker.InterruptAsync(HangGuard);
                var again = Processed(worker.Output);
                Assert.Equal(2, again.Count);
                Assert.Empty(again.Select(p => p.Id).Intersect(processed.Select(p => p.Id)));
            }
        }
        finally
        {
            await DeleteSuperStreamAsync(superStream);
        }
    }

    [Fact]
    public async Task Two_instances_split_the_partitions_as_single_active_consumers()
    {
        var superStream = BrokerFixture.UniqueName("invoices");
        var ct = TestContext.Current.CancellationToken;
        try
        {
            await using var first = StartWorker(superStream, publishOnStart: 0);
            await WaitForSubscriptionsAsync(first, 3);
            await using var second = StartWorker(superStream, publishOnStart: 0);
            await WaitForSubscriptionsAsync(second, 3);

            // Publish rounds of invoices to every partition until both instances have handled some: the broker moves
            // partitions to the second instance once it joined (each partition has one active consumer at a time).
            await using var system = await fixture.ConnectAsync();
            await using var producer = await system.CreateSuperStreamProducerAsync(
                new SuperStreamProducerOptions(superStream, m => m.Properties!.GroupId!), ct);
            var published = new List<string>();
            var deadline = DateTime.UtcNow + HangGuard;
            while (Processed(first.Output).Count == 0 || Processed(second.Output).Count == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, $"Both instances did not get partitions.\nFirst:\n{first.Output}\nSecond:\n{second.Output}");
                foreach (var customer in new[] { "ada", "grace", "donald" }) // partitions 0, 2 and 1
                {
                    var id = $"r{published.Count}-{customer}";
                    var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new { id, customer, amount = 1 });
                    await producer.SendAsync(new Message(body) { Properties = new MessageProperties { GroupId = customer, ContentType = "application/json" } }, ct);
                    published.Add(id);
                }

                await Task.Delay(500, ct);
            }

            // Once the partitions are split, a round of invoices is handled exactly once: by the partition's active
            // consumer only (without SAC both instances would handle everything).
            var final = new List<string>();
            foreach (var customer in new[] { "ada", "grace", "donald" })
            {
                var id = $"final-{customer}";
                var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new { id, customer, amount = 1 });
                await producer.SendAsync(new Message(body) { Properties = new MessageProperties { GroupId = customer, ContentType = "application/json" } }, ct);
                final.Add(id);
                published.Add(id);
            }

            // Every invoice is handled (at least once: a partition that changes hands resumes after the stored offset).
            var deadline2 = DateTime.UtcNow + HangGuard;
            while (published.Except(Processed(first.Output).Concat(Processed(second.Output)).Select(p => p.Id)).Any())
            {
                Assert.True(DateTime.UtcNow < deadline2, $"Not every invoice was handled.\nFirst:\n{first.Output}\nSecond:\n{second.Output}");
                await Task.Delay(100, ct);
            }

            await Task.Delay(1000, ct); // room for a duplicate to show up, were the consumers not single active
            var handled = Processed(first.Output).Concat(Processed(second.Output)).Select(p => p.Id).ToList();
            Assert.All(final, id => Assert.Single(handled, h => h == id));

            await first.InterruptAsync(HangGuard);
            await second.InterruptAsync(HangGuard);
            Assert.True(first.ExitCode == 0 && second.ExitCode == 0, first.Output + second.Output);
        }
        finally
        {
            await DeleteSuperStreamAsync(superStream);
        }
    }

    private static async Task WaitForSubscriptionsAsync(SampleProcess worker, int count)
    {
        var deadline = DateTime.UtcNow + HangGuard;
        while (Regex.Count(worker.Output, "Consumer InvoiceHandler subscribed to") < count)
        {
            Assert.True(DateTime.UtcNow < deadline && worker.ExitCode is null, $"The worker did not subscribe {count} times. Output:\n{worker.Output}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    private static async Task WaitForProcessedAsync(SampleProcess worker, int count)
    {
        var deadline = DateTime.UtcNow + HangGuard;
        while (Processed(worker.Output).Count < count)
        {
            if (DateTime.UtcNow > deadline || worker.ExitCode is not null)
            {
                Assert.Fail($"The worker did not process {count} invoices. Output:\n{worker.Output}");
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    private static List<(string Id, string Partition)> Processed(string output) =>
        ProcessedLine().Matches(output).Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();

    [GeneratedRegex(@"Processed invoice (\S+) for \S+ \([^)]*\) from (\S+)@\d+")]
    private static partial Regex ProcessedLine();

    private async Task DeleteSuperStreamAsync(string superStream)
    {
        await using var system = await fixture.ConnectAsync();
        await system.DeleteSuperStreamAsync(superStream);
        await fixture.DeleteStreamsAsync([.. Enumerable.Range(0, 3).Select(i => $"{superStream}-{i}.dlq")]);
    }
}
