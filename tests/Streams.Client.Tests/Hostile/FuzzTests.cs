using Xunit;

namespace Streams.Client.Tests.Hostile;

/// <summary>
/// Issue 13: bytes from the network are untrusted. Seeded mutation fuzzing of Deliver and PublishConfirm frames through
/// the real client (StreamSystem + Consumer/Producer against a loopback <see cref="FuzzBroker"/>) and straight into the
/// chunk parser: no untyped exception may reach the user, no case may hang, no message may be delivered at an offset or
/// with a body the frames do not carry, and memory stays bounded. Fixed seeds and counts (2,000 networked frames in
/// all): a failure names the seed and case, the mutation and the bytes. The long run is benchmarks/Streams.Fuzz.
/// </summary>
[Collection(HostileCollection.Name)]
public sealed class FuzzTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Mutated_Deliver_frames_through_a_real_consumer()
    {
        var report = await DeliverFuzzer.RunAsync(new FuzzSettings(Seed: 13, Frames: 1400), Ct);
        AssertClean(report);
    }

    [Fact]
    public async Task Mutated_PublishConfirm_frames_through_a_real_producer()
    {
        var report = await ConfirmFuzzer.RunAsync(new FuzzSettings(Seed: 1313, Frames: 600), Ct);
        AssertClean(report);
    }

    [Fact]
    public void Mutated_chunks_straight_into_the_chunk_parser()
    {
        var report = ChunkParserFuzzer.Run(new FuzzSettings(Seed: 131313, Frames: 5000));
        AssertClean(report);
    }

    [Fact]
    public void The_same_seed_gives_the_same_mutated_frames()
    {
        static string Run(int seed)
        {
            var settings = new FuzzSettings(seed, 0);
            var hashes = new List<string>();
            for (int i = 0; i < 200; i++)
            {
                var rng = settings.CaseRandom(i);
                var frame = i % 2 == 0 ? FuzzFrames.Deliver(rng, 3, (ulong)i * 10) : FuzzFrames.PublishConfirm(7, [(ulong)i, (ulong)i + 1]);
                var mutated = FrameMutator.Mutate(rng, frame, recomputeCrc: rng.Next(2) == 0);
                hashes.Add(Convert.ToHexString(mutated.Bytes) + mutated.Describe());
            }

            return string.Join("\n", hashes);
        }

        Assert.Equal(Run(42), Run(42));
        Assert.NotEqual(Run(42), Run(43));
    }

    [Fact]
    public void Generated_frames_are_valid_for_the_reference_decoder()
    {
        var settings = new FuzzSettings(7, 0);
        for (int i = 0; i < 300; i++)
        {
            var rng = settings.CaseRandom(i);
            var frame = FuzzFrames.Deliver(rng, 2, (ulong)i * 100);
            var decoded = ReferenceDecoder.Decode(frame.Bytes[4..], 2, 0, 0, "s");
            Assert.True(decoded.Verdict == Verdict.Valid, $"case {i}: {decoded.Verdict} {decoded.Reason} for {frame.Description}");
            Assert.Equal(frame.Records.Select(r => r.Offset), decoded.Records.Select(r => r.Offset));
            Assert.Equal(frame.Records.Select(r => Convert.ToHexString(r.Body)), decoded.Records.Select(r => Convert.ToHexString(r.Body)));
        }

        var confirm = FuzzFrames.PublishConfirm(4, [5, 6, 7]);
        var c = ReferenceDecoder.Decode(confirm.Bytes[4..], 0, 4, 0, "s");
        Assert.Equal(Verdict.Valid, c.Verdict);
        Assert.Equal([5ul, 6, 7], c.Confirmed);
    }

    private void AssertClean(FuzzReport report)
    {
        var summary = report.Summary();
        output.WriteLine(summary);
        foreach (var failure in report.Failures)
        {
            output.WriteLine(failure.ToString());
        }

        Assert.True(report.FailureCount == 0, $"{report.FailureCount} failing cases.\n{summary}\nFirst failures:\n{string.Join("\n", report.Failures.Take(10))}");
    }
}

/// <summary>The fuzz tests measure process-wide memory and unobserved task exceptions: they run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostileCollection
{
    public const string Name = "hostile";
}
