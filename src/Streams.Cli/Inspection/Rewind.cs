using System.Globalization;
using Streams.Cli.Cli;
using Streams.Client;

namespace Streams.Cli.Inspection;

/// <summary>
/// Where <c>streams offsets set --to</c> puts a consumer name: <c>first</c>, <c>last</c>, <c>offset:N</c> or
/// <c>timestamp:ISO</c>. A consumer resumes after its stored offset, so a rewind to message M stores M - 1; <c>last</c>
/// stores the last message's offset (the consumer reads only what is published after it).
/// </summary>
internal sealed record Rewind(string Kind, ulong Offset, DateTimeOffset Time)
{
    public const string Syntax = "first|last|offset:N|timestamp:ISO";

    /// <summary>Parses <paramref name="text"/>; false (with <paramref name="rewind"/> null) when it is none of <see cref="Syntax"/>.</summary>
    public static bool TryParse(string text, out Rewind? rewind)
    {
        rewind = text switch
        {
            "first" or "last" => new Rewind(text, 0, default),
            _ when text.StartsWith("offset:", StringComparison.Ordinal)
                && ulong.TryParse(text.AsSpan("offset:".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var offset) => new Rewind("offset", offset, default),
            _ when text.StartsWith("timestamp:", StringComparison.Ordinal)
                && DateTimeOffset.TryParse(text.AsSpan("timestamp:".Length), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) => new Rewind("timestamp", 0, time),
            _ => null,
        };
        return rewind is not null;
    }

    /// <summary>
    /// The offset to store on <paramref name="stream"/> and the offset the consumer then resumes at. Throws
    /// <see cref="UsageException"/> when it cannot be expressed as a stored offset (a rewind to offset 0, an empty stream).
    /// </summary>
    public async Task<(ulong Store, ulong ResumesAt)> ResolveAsync(StreamSystem system, string stream, CancellationToken cancellationToken)
    {
        var end = await StreamEnd.ProbeAsync(system, stream, StreamEnd.DefaultProbeTimeout, cancellationToken).ConfigureAwait(false)
            ?? throw new UsageException($"{stream} holds no message: there is nothing to rewind to or skip.");
        var resumesAt = Kind switch
        {
            "last" => end.LastOffset + 1,
            "offset" when Offset > end.LastOffset + 1 => throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                $"--to offset:{Offset} is past the end of {stream} (its last message is at offset {end.LastOffset}).")),
            "offset" => Offset,
            "first" => await FirstMessageAsync(system, stream, OffsetSpecification.First, end, cancellationToken).ConfigureAwait(false),
            _ => await FirstMessageAsync(system, stream, OffsetSpecification.Timestamp(Time), end, cancellationToken).ConfigureAwait(false),
        };
        if (resumesAt == 0)
        {
            throw new UsageException(
                $"{stream}: a consumer resumes after its stored offset, and no offset comes before 0, so offset 0 cannot be rewound to by storing an offset; start the consumer from first with no stored offset (a new name) instead.");
        }

        return (resumesAt - 1, resumesAt);
    }

    /// <summary>The offset of the first message a consumer starting at <paramref name="start"/> reads; after the end when it reads none.</summary>
    private static async Task<ulong> FirstMessageAsync(StreamSystem system, string stream, OffsetSpecification start, StreamEnd end, CancellationToken cancellationToken)
    {
        if (end.StartsAfter(start))
        {
            return end.LastOffset + 1;
        }

        var consumer = await system.CreateConsumerAsync(new ConsumerOptions(stream) { Offset = start, InitialCredits = 1 }, cancellationToken).ConfigureAwait(false);
        await using (consumer.ConfigureAwait(false))
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(StreamEnd.DefaultProbeTimeout);
            try
            {
                await foreach (var delivery in consumer.ReadAllAsync(timeout.Token).ConfigureAwait(false))
                {
                    return delivery.Offset;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
        }

        throw new StreamTimeoutException($"The broker delivered no message of {stream} from {start} within {StreamEnd.DefaultProbeTimeout.TotalSeconds:F0} s although its last message is at offset {end.LastOffset}.");
    }
}
