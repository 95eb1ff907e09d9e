namespace Streams.Client;

/// <summary>Where a stream lives: its leader and replicas.</summary>
public sealed class StreamMetadata
{
    internal StreamMetadata(string stream, ResponseCode code, StreamEndpoint? leader, IReadOnlyList<StreamEndpoint> replicas)
    {
        Stream = stream;
        Code = code;
        Leader = leader;
        Replicas = replicas;
    }

    /// <summary>The stream name.</summary>
    public string Stream { get; }

    /// <summary><see cref="ResponseCode.Ok"/>, <see cref="ResponseCode.StreamDoesNotExist"/> or <see cref="ResponseCode.StreamNotAvailable"/>.</summary>
    public ResponseCode Code { get; }

    /// <summary>The leader node, or null when there is none (stream missing, leader unreachable).</summary>
    public StreamEndpoint? Leader { get; }

    /// <summary>The replica nodes (may be empty).</summary>
    public IReadOnlyList<StreamEndpoint> Replicas { get; }

    /// <summary>Whether the stream exists.</summary>
    public bool Exists => Code != ResponseCode.StreamDoesNotExist;

    /// <inheritdoc />
    public override string ToString() => $"{Stream}: {Code}, leader {Leader?.ToString() ?? "none"}, replicas [{string.Join(", ", Replicas)}]";
}

/// <summary>Chunk-level statistics of a stream. Null values mean the stream has no chunk yet.</summary>
public sealed class StreamStatistics
{
    internal StreamStatistics(ulong? firstOffset, ulong? committedChunkId, ulong? lastChunkId)
    {
        FirstOffset = firstOffset;
        CommittedChunkId = committedChunkId;
        LastChunkId = lastChunkId;
    }

    /// <summary>The id (first offset) of the first chunk still retained.</summary>
    public ulong? FirstOffset { get; }

    /// <summary>The id of the last committed (replicated) chunk.</summary>
    public ulong? CommittedChunkId { get; }

    /// <summary>The id of the last chunk written.</summary>
    public ulong? LastChunkId { get; }

    internal static StreamStatistics From(IReadOnlyDictionary<string, long> stats)
    {
        static ulong? Get(IReadOnlyDictionary<string, long> s, string key) =>
            s.TryGetValue(key, out var v) && v >= 0 ? (ulong)v : null;

        return new StreamStatistics(Get(stats, "first_chunk_id"), Get(stats, "committed_chunk_id"), Get(stats, "last_chunk_id"));
    }

    /// <inheritdoc />
    public override string ToString() => $"first {FirstOffset?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}, committed {CommittedChunkId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}, last {LastChunkId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}";
}
