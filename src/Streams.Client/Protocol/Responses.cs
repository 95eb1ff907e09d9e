namespace Streams.Client.Protocol;

internal readonly record struct CodeResponse(uint CorrelationId, ResponseCode Code);

internal sealed record PeerPropertiesResponse(uint CorrelationId, ResponseCode Code, IReadOnlyDictionary<string, string> Properties);

internal sealed record SaslHandshakeResponse(uint CorrelationId, ResponseCode Code, IReadOnlyList<string> Mechanisms);

internal sealed record SaslAuthenticateResponse(uint CorrelationId, ResponseCode Code, byte[]? Challenge);

internal sealed record OpenResponse(uint CorrelationId, ResponseCode Code, IReadOnlyDictionary<string, string> Properties);

internal readonly record struct ULongResponse(uint CorrelationId, ResponseCode Code, ulong Value);

internal readonly record struct MetadataBroker(ushort Reference, string Host, uint Port);

internal sealed record MetadataStream(string Name, ResponseCode Code, ushort LeaderReference, IReadOnlyList<ushort> ReplicaReferences);

internal sealed record MetadataResponse(uint CorrelationId, IReadOnlyList<MetadataBroker> Brokers, IReadOnlyList<MetadataStream> Streams);

internal sealed record StreamListResponse(uint CorrelationId, ResponseCode Code, IReadOnlyList<string> Streams);

internal sealed record CommandVersionsResponse(uint CorrelationId, ResponseCode Code, IReadOnlyList<CommandVersion> Versions);

internal sealed record StreamStatsResponse(uint CorrelationId, ResponseCode Code, IReadOnlyDictionary<string, long> Statistics);

internal readonly record struct ResolveOffsetSpecResponse(uint CorrelationId, ResponseCode Code, OffsetType OffsetType, ulong Offset);

internal readonly record struct CreditErrorResponse(ResponseCode Code, byte SubscriptionId);

internal readonly record struct TuneFrame(uint FrameMax, uint HeartbeatSeconds);

internal sealed record CloseRequest(uint CorrelationId, ResponseCode Code, string Reason);

internal readonly record struct ConsumerUpdateRequest(uint CorrelationId, byte SubscriptionId, bool Active);

internal sealed record MetadataUpdateFrame(ResponseCode Code, string Stream);

/// <summary>
/// Decoders of server-to-client frames. Every method takes the frame without its size prefix
/// (starting at the key) and checks the key.
/// </summary>
internal static class Responses
{
    /// <summary>Reads key and version of a frame (without size prefix).</summary>
    public static (ushort Key, ushort Version) ReadHeader(ReadOnlySpan<byte> frame)
    {
        var r = new ProtocolReader(frame);
        return (r.ReadUInt16(), r.ReadUInt16());
    }

    private static ProtocolReader Begin(ReadOnlySpan<byte> frame, ushort expectedKey)
    {
        var r = new ProtocolReader(frame);
        var key = r.ReadUInt16();
        if (key != expectedKey)
        {
            throw new StreamProtocolFormatException($"Expected frame key 0x{expectedKey:x4}, got 0x{key:x4}.");
        }

        r.ReadUInt16();
        return r;
    }

    private static ProtocolReader BeginResponse(ReadOnlySpan<byte> frame, CommandKey key, out uint correlationId, out ResponseCode code)
    {
        var r = Begin(frame, ProtocolConstants.ToResponse(key));
        correlationId = r.ReadUInt32();
        code = (ResponseCode)r.ReadUInt16();
        return r;
    }

    /// <summary>A response with only correlation id and code (DeclarePublisher, DeletePublisher, Subscribe, Unsubscribe, Create, Delete, Close, CreateSuperStream, DeleteSuperStream).</summary>
    public static CodeResponse ReadCodeResponse(ReadOnlySpan<byte> frame, CommandKey key)
    {
        BeginResponse(frame, key, out var corr, out var code);
        return new CodeResponse(corr, code);
    }

    public static PeerPropertiesResponse ReadPeerProperties(ReadOnlySpan<byte> frame)
    {
        var r = BeginResponse(frame, CommandKey.PeerProperties, out var corr, out var code);
        return new PeerPropertiesResponse(corr, code, r.ReadOptionalMap());
    }

    public static SaslHandshakeResponse ReadSaslHandshake(ReadOnlySpan<byte> frame)
    {
        var r = BeginResponse(frame, CommandKey.SaslHandshake, out var corr, out var code);
        return new SaslHandshakeResponse(corr, code, r.HasMore ? r.ReadStringArray() : []);
    }

    /// <summary>SaslAuthenticate response; the optional challenge is accepted with an i32 (spec) or u16 (server source) length.</summary>
    public static SaslAuthenticateResponse ReadSaslAuthenticate(ReadOnlySpan<byte> frame)
    {
        var r = BeginResponse(frame, CommandKey.SaslAuthenticate, out var corr, out var code);
        byte[]? challenge = null;
        var rest = r.Remaining;
        if (rest >= 4)
        {
            var copy = r;
            var len = copy.ReadInt32();
            if (len >= 0 && len == rest - 4)
            {
                challenge = copy.ReadRaw(len).ToArray();
            }
        }

        if (challenge is null && rest >= 2)
        {
            var len = r.ReadUInt16();
            challenge = r.ReadRaw(Math.Min(len, r.Remaining)).ToArray();
        }

        return new SaslAuthenticateResponse(corr, code, challenge);
    }

    public static OpenResponse ReadOpen(ReadOnlySpan<byte> frame)
    {
        var r = BeginResponse(frame, CommandKey.Open, out var corr, out var code);
        return new OpenResponse(corr, code, r.ReadOptionalMap());
    }

    public static ULongResponse ReadQueryPublisherSequence(ReadOnlySpan<byte> frame) => ReadULong(frame, CommandKey.QueryPublisherSequence);

    public static ULongResponse ReadQueryOffset(ReadOnlySpan<byte> frame) => ReadULong(frame, CommandKey.QueryOffset);

    private static ULongResponse ReadULong(ReadOnlySpan<byte> frame, CommandKey key)
    {
        var r = BeginResponse(frame, key, out var corr, out var code);
        return new ULongResponse(corr, code, r.Remaining >= 8 ? r.ReadUInt64() : 0);
    }

    /// <summary>Metadata response: no top-level response code.</summary>
    public static MetadataResponse ReadMetadata(ReadOnlySpan<byte> frame)
    {
        var r = Begin(frame, ProtocolConstants.ToResponse(CommandKey.Metadata));
        var corr = r.ReadUInt32();
        var brokerCount = r.ReadCount(8);
        var brokers = new MetadataBroker[brokerCount];
        for (var i = 0; i < brokerCount; i++)
        {
            brokers[i] = new MetadataBroker(r.ReadUInt16(), r.ReadNonNullString(), r.ReadUInt32());
        }

        var streamCount = r.ReadCount(10);
        var streams = new MetadataStream[streamCount];
        for (var i = 0; i < streamCount; i++)
        {
            var name = r.ReadNonNullString();
            var code = (ResponseCode)r.ReadUInt16();
            var leader = r.ReadUInt16();
            var replicaCount = r.ReadCount(2);
            var replicas = new ushort[replicaCount];
            for (var j = 0; j < replicaCount; j++)
            {
                replicas[j] = r.ReadUInt16();
            }

            streams[i] = new MetadataStream(name, code, leader, replicas);
        }

        return new MetadataResponse(corr, brokers, streams);
    }

    public static StreamListResponse ReadRoute(ReadOnlySpan<byte> frame) => ReadStreamList(frame, CommandKey.Route);

    public static StreamListResponse ReadPartitions(ReadOnlySpan<byte> frame) => ReadStreamList(frame, CommandKey.Partitions);

    private static StreamListResponse ReadStreamList(ReadOnlySpan<byte> frame, CommandKey key)
    {
        var r = BeginResponse(frame, key, out var corr, out var code);
        return new StreamListResponse(corr, code, r.HasMore ? r.ReadStringArray() : []);
    }

    public static CommandVersionsResponse ReadExchangeCommandVersions(ReadOnlySpan<byte> frame)
    {
        var r = BeginResponse(frame, CommandKey.ExchangeCommandVersions, out var corr, out var code);
        var count = r.HasMore ? r.ReadCount(6) : 0;
        var versions = new CommandVersion[count];
        for (var i = 0; i < count; i++)
        {
            versions[i] = new CommandVersion(r.ReadUInt16(), r.ReadUInt16(), r.ReadUInt16());
        }

        return new CommandVersionsResponse(corr, code, versions);
    }

    /// <summary>StreamStats: the only map with i64 values.</summary>
    public static StreamStatsResponse ReadStreamStats(ReadOnlySpan<byte> frame)
    {
        var r = BeginResponse(frame, CommandKey.StreamStats, out var corr, out var code);
        var count = r.HasMore ? r.ReadCount(10) : 0;
        var stats = new Dictionary<string, long>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var key = r.ReadNonNullString();
            stats[key] = r.ReadInt64();
        }

        return new StreamStatsResponse(corr, code, stats);
    }

    public static ResolveOffsetSpecResponse ReadResolveOffsetSpec(ReadOnlySpan<byte> frame)
    {
        var r = BeginResponse(frame, CommandKey.ResolveOffsetSpec, out var corr, out var code);
        if (r.Remaining < 10)
        {
            return new ResolveOffsetSpecResponse(corr, code, OffsetType.None, 0);
        }

        return new ResolveOffsetSpecResponse(corr, code, (OffsetType)r.ReadUInt16(), r.ReadUInt64());
    }

    /// <summary>Credit error response: <c>0x8009 ver code:u16 subId:u8</c>, no correlation id.</summary>
    public static CreditErrorResponse ReadCreditError(ReadOnlySpan<byte> frame)
    {
        var r = Begin(frame, ProtocolConstants.ToResponse(CommandKey.Credit));
        return new CreditErrorResponse((ResponseCode)r.ReadUInt16(), r.ReadUInt8());
    }

    /// <summary>The server's Tune (key 0x0014) or, in tests, a reply (0x8014).</summary>
    public static TuneFrame ReadTune(ReadOnlySpan<byte> frame)
    {
        var r = new ProtocolReader(frame);
        var key = r.ReadUInt16() & ~ProtocolConstants.ResponseFlag;
        if (key != (ushort)CommandKey.Tune)
        {
            throw new StreamProtocolFormatException($"Expected a Tune frame, got key 0x{key:x4}.");
        }

        r.ReadUInt16();
        return new TuneFrame(r.ReadUInt32(), r.ReadUInt32());
    }

    /// <summary>A server-initiated Close request.</summary>
    public static CloseRequest ReadCloseRequest(ReadOnlySpan<byte> frame)
    {
        var r = Begin(frame, (ushort)CommandKey.Close);
        var corr = r.ReadUInt32();
        var code = (ResponseCode)r.ReadUInt16();
        var reason = r.HasMore ? r.ReadNonNullString() : string.Empty;
        return new CloseRequest(corr, code, reason);
    }

    public static ConsumerUpdateRequest ReadConsumerUpdate(ReadOnlySpan<byte> frame)
    {
        var r = Begin(frame, (ushort)CommandKey.ConsumerUpdate);
        return new ConsumerUpdateRequest(r.ReadUInt32(), r.ReadUInt8(), r.ReadUInt8() != 0);
    }

    public static MetadataUpdateFrame ReadMetadataUpdate(ReadOnlySpan<byte> frame)
    {
        var r = Begin(frame, (ushort)CommandKey.MetadataUpdate);
        return new MetadataUpdateFrame((ResponseCode)r.ReadUInt16(), r.ReadNonNullString());
    }

    /// <summary>PublishConfirm: returns the n big-endian u64 publishing ids back to back.</summary>
    public static ReadOnlySpan<byte> ReadPublishConfirm(ReadOnlySpan<byte> frame, out byte publisherId, out int count)
    {
        var r = Begin(frame, (ushort)CommandKey.PublishConfirm);
        publisherId = r.ReadUInt8();
        count = r.ReadCount(8);
        return r.ReadRaw(count * 8);
    }

    /// <summary>PublishError: returns n entries of (publishingId:u64 code:u16), 10 bytes each; see <see cref="ReadPublishErrorEntry"/>.</summary>
    public static ReadOnlySpan<byte> ReadPublishError(ReadOnlySpan<byte> frame, out byte publisherId, out int count)
    {
        var r = Begin(frame, (ushort)CommandKey.PublishError);
        publisherId = r.ReadUInt8();
        count = r.ReadCount(10);
        return r.ReadRaw(count * 10);
    }

    /// <summary>Entry <paramref name="index"/> of a PublishError body returned by <see cref="ReadPublishError"/>.</summary>
    public static (ulong PublishingId, ResponseCode Code) ReadPublishErrorEntry(ReadOnlySpan<byte> entries, int index)
    {
        var r = new ProtocolReader(entries.Slice(index * 10, 10));
        return (r.ReadUInt64(), (ResponseCode)r.ReadUInt16());
    }

    /// <summary>
    /// Parses a Deliver header (v1: subId + chunk; v2: subId + committedChunkId + chunk) and returns the offset of
    /// the chunk inside <paramref name="frame"/>.
    /// </summary>
    public static int ReadDeliverHeader(ReadOnlySpan<byte> frame, out byte subscriptionId, out ulong? committedChunkId)
    {
        var r = Begin(frame, (ushort)CommandKey.Deliver);
        var version = (ushort)((frame[2] << 8) | frame[3]);
        subscriptionId = r.ReadUInt8();
        committedChunkId = version >= ProtocolConstants.Version2 ? r.ReadUInt64() : null;
        return r.Position;
    }
}
