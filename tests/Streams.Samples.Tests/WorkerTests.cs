using System.Text.RegularExpressions;
using Streams.Client;
using Streams.Testing;

namespace Streams.Samples.Tests;

/// <summary>samples/Worker as its own process: super stream, single active consumer, dead-letter policy.</summary>
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
