using System.Text;

namespace Streams.Client.Protocol;

/// <summary>One entry of an ExchangeCommandVersions list.</summary>
internal readonly record struct CommandVersion(ushort Key, ushort MinVersion, ushort MaxVersion);

/// <summary>Encoders of client-to-server frames. Each returns a complete frame, size prefix included.</summary>
internal static class Requests
{
    private const int H = ProtocolConstants.RequestHeaderSize;

    private static byte[] Finish(byte[] frame, ProtocolWriter writer)
    {
        if (writer.Position != frame.Length)
        {
            throw new InvalidOperationException($"Frame encoder wrote {writer.Position} bytes into a {frame.Length}-byte frame.");
        }

        return frame;
    }

    /// <summary>DeclarePublisher; a null reference is sent as an empty string (the broker rejects a null string here with Close 0x0d).</summary>
    public static byte[] DeclarePublisher(uint correlationId, byte publisherId, string? reference, string stream)
    {
        reference ??= string.Empty;
        var frame = new byte[H + 1 + ProtocolWriter.SizeOf(reference) + ProtocolWriter.SizeOf(stream)];
        var w = new ProtocolWriter(frame);
        w.WriteRequestHeader(frame.Length, CommandKey.DeclarePublisher, correlationId);
        w.WriteUInt8(publisherId);
        w.WriteString(reference);
        w.WriteString(stream);
        return Finish(frame, w);
    }

    public static byte[] QueryPublisherSequence(uint correlationId, string reference, string stream) =>
        ReferenceAndStream(CommandKey.QueryPublisherSequence, correlationId, reference, stream);

    /// <summary>A request whose fields are a reference and a stream name (QueryPublisherSequence, QueryOffset).</summary>
    private static byte[] ReferenceAndStream(CommandKey key, uint correlationId, string reference, string stream)
    {
        var frame = new byte[H + ProtocolWriter.SizeOf(reference) + ProtocolWriter.SizeOf(stream)];
        var w = new ProtocolWriter(frame);
        w.WriteRequestHeader(frame.Length, key, correlationId);
        w.WriteString(reference);
        w.WriteString(stream);
        return Finish(frame, w);
    }

    public static byte[] DeletePublisher(uint correlationId, byte publisherId) => WithByte(CommandKey.DeletePublisher, correlationId, publisherId);

    public static byte[] Unsubscribe(uint correlationId, byte subscriptionId) => WithByte(CommandKey.Unsubscribe, correlationId, subscriptionId);

    private static byte[] WithByte(CommandKey key, uint correlationId, byte value)
    {
        var frame = new byte[H + 1];
        var w = new ProtocolWriter(frame);
        w.WriteRequestHeader(frame.Length, key, correlationId);
        w.WriteUInt8(value);
        return Finish(frame, w);
    }

    private static int SizeOf(OffsetSpecification offset) =>
        offset.Type is OffsetType.Offset or OffsetType.Timestamp ? 10 : 2;

    private static void Write(ref ProtocolWriter w, OffsetSpecification offset)
    {
        w.WriteUInt16((ushort)offset.Type);
        if (offset.Type == OffsetType.Offset)
        {
            w.WriteUInt64(offset.OffsetValue);
        }
        else if (offset.Type == OffsetType.Timestamp)
        {
            w.WriteInt64(offset.Value);
        }
    }

    /// <summary>Subscribe; the properties map is omitted when null or empty.</summary>
    public static byte[] Subscribe(uint correlationId, byte subscriptionId, string stream, OffsetSpecification offset, ushort credit, IReadOnlyDictionary<string, string>? properties)
    {
        var hasProps = properties is { Count: > 0 };
        var frame = new byte[H + 1 + ProtocolWriter.SizeOf(stream) + SizeOf(offset) + 2 + (hasProps ? ProtocolWriter.SizeOf(properties) : 0)];
        var w = new ProtocolWriter(frame);
        w.WriteRequestHeader(frame.Length, CommandKey.Subscribe, correlationId);
        w.WriteUInt8(subscriptionId);
        w.WriteString(stream);
        Write(ref w, offset);
        w.WriteUInt16(credit);
        if (hasProps)
        {
            w.WriteMap(properties);
        }

        return Finish(frame, w);
    }

    /// <summary>Credit (no correlation id).</summary>
    public static byte[] Credit(byte subscriptionId, ushort credit)
    {
        var frame = new byte[ProtocolConstants.FrameHeaderSize + 3];
        WriteCredit(frame, subscriptionId, credit);
        return frame;
    }

    /// <summary>Writes a Credit frame (11 bytes) into <paramref name="destination"/>.</summary>
    public static void WriteCredit(Span<byte> destination, byte subscriptionId, ushort credit)
    {
        var w = new ProtocolWriter(destination);
        w.WriteFrameHeader(CreditFrameSize, (ushort)CommandKey.Credit, ProtocolConstants.Version1);
        w.WriteUInt8(subscriptionId);
        w.WriteUInt16(credit);
    }

    /// <summary>Size of a Credit frame.</summary>
    public const int CreditFrameSize = ProtocolConstants.FrameHeaderSize + 3;

    /// <summary>StoreOffset (no correlation id).</summary>
    public static byte[] StoreOffset(string reference, string stream, ulong offset)
    {
        var frame = new byte[ProtocolConstants.FrameHeaderSize + ProtocolWriter.SizeOf(reference) + ProtocolWriter.SizeOf(stream) + 8];
        var w = new ProtocolWriter(frame);
        w.WriteFrameHeader(frame.Length, (ushort)CommandKey.StoreOffset, ProtocolConstants.Version1);
        w.WriteString(reference);
        w.WriteString(stream);
        w.WriteUInt64(offset);
        return Finish(frame, w);
    }

    public static byte[] QueryOffset(uint correlationId, string reference, string stream) =>
        ReferenceAndStream(CommandKey.QueryOffset, correlationId, reference, stream);

    public static byte[] Create(uint correlationId, string stream, IReadOnlyDictionary<string, string>? arguments)
    {
        var frame = new byte[H + ProtocolWriter.SizeOf(stream) + ProtocolWriter.SizeOf(arguments)];
        var w = new ProtocolWriter(frame);
        w.WriteRequestHeader(frame.Length, CommandKey.Create, correlationId);
        w.WriteString(stream);
        w.WriteMap(arguments);
        return Finish(frame, w);
    }

    public static byte[] Delete(uint correlationId, string stream) => WithString(CommandKey.Delete, correlationId, stream);

    public static byte[] Partitions(uint correlationId, string superStream) => WithString(CommandKey.Partitions, correlationId, superStream);

    public static byte[] DeleteSuperStream(uint correlationId, string superStream) => WithString(CommandKey.DeleteSuperStream, correlationId, superStream);

    public static byte[] StreamStats(uint correlationId, string stream) => WithString(CommandKey.StreamStats, correlationId, stream);

    public static byte[] Open(uint correlationId, string virtualHost) => WithString(CommandKey.Open, correlationId, virtualHost);

    private static byte[] WithString(CommandKey key, uint correlationId, string value)
    {
        var frame = new byte[H + ProtocolWriter.SizeOf(value)];
        var w = new ProtocolWriter(frame);
        w.WriteRequestHeader(frame.Length, key, correlationId);
        w.WriteString(value);
        return Finish(frame, w);
    }

    public static byte[] Metadata(uint correlationId, IReadOnlyList<string> streams)
    {
        var frame = new byte[H + ProtocolWriter.SizeOf(streams)];
        var w = new ProtocolWriter(frame);
        w.WriteRequestHeader(frame.Length, CommandKey.Metadata, correlationId);
        w.WriteStringArray(streams);
        return Finish(frame, w);
    }

    public static byte[] PeerProperties(uint correlationId, IReadOnlyDictionary<string, string> properties)
    {
        var frame = new byte[H + ProtocolWriter.SizeOf(properties)];
        var w = new ProtocolWriter(frame);
        w.WriteRequestHeader(frame.Length, CommandKey.PeerProperties, correlationId);
        w.WriteMap(properties);
        return Finish(frame, w);
    }

    public static byte[] SaslHandshake(uint correlationId)
    {
        var frame = new byte[H];
        var w = new ProtocolWriter(frame);
        w.WriteRequestHeader(frame.Length, CommandKey.SaslHandshake, correlationId);
        return Finish(frame, w);
    }

    public static byte[] SaslAuthenticate(uint correlationId, string mechanism, ReadOnlySpan<byte> data)
    {
        var frame = new byte[H + ProtocolWriter.SizeOf(mechanism) + 4 + data.Length];
        var w = new ProtocolWriter(frame);
        w.WriteRequestHeader(frame.Length, CommandKey.SaslAuthenticate, correlationId);
        w.WriteString(mechanism);
        w.WriteBytes(data);
        return Finish(frame, w);
    }

    /// <summary>SASL PLAIN data: 0x00 user 0x00 password.</summary>
    public static byte[] PlainSaslData(string userName, string password)
    {
        var user = Encoding.UTF8.GetBytes(userName);
        var pass = Encoding.UTF8.GetBytes(password);
        var data = new byte[2 + user.Length + pass.Length];
        user.CopyTo(data, 1);
        pass.CopyTo(data, 2 + user.Length);
        return data;
    }

    /// <summary>The client's Tune reply (key 0x8014, no correlation id).</summary>
    public static byte[] TuneReply(uint frameMax, uint heartbeatSeconds)
    {
        var frame = new byte[ProtocolConstants.FrameHeaderSize + 8];
        var w = new ProtocolWriter(frame);
        w.WriteFrameHeader(frame.Length, ProtocolConstants.ToResponse(CommandKey.Tune), ProtocolConstants.Version1);
        w.WriteUInt32(frameMax);
        w.WriteUInt32(heartbeatSeconds);
        return Finish(frame, w);
    }

    public static byte[] Close(uint correlationId, ResponseCode code, string reason)
    {
        var frame = new byte[H + 2 + ProtocolWriter.SizeOf(reason)];
        var w = new ProtocolWriter(frame);
        w.WriteRequestHeader(frame.Length, CommandKey.Close, correlationId);
        w.WriteUInt16((ushort)code);
        w.WriteString(reason);
        return Finish(frame, w);
    }

    /// <summary>The answer to a server-initiated Close (key 0x8016).</summary>
    public static byte[] CloseResponse(uint correlationId, ResponseCode code)
    {
        var frame = new byte[H + 2];
        var w = new ProtocolWriter(frame);
        w.WriteFrameHeader(frame.Length, ProtocolConstants.ToResponse(CommandKey.Close), ProtocolConstants.Version1);
        w.WriteUInt32(correlationId);
        w.WriteUInt16((ushort)code);
        return Finish(frame, w);
    }

    /// <summary>The 8-byte heartbeat frame.</summary>
    public static ReadOnlyMemory<byte> Heartbeat { get; } = new byte[] { 0, 0, 0, 4, 0, 0x17, 0, 1 };

    public static byte[] Route(uint correlationId, string routingKey, string superStream)
    {
        var frame = new byte[H + ProtocolWriter.SizeOf(routingKey) + ProtocolWriter.SizeOf(superStream)];
        var w = new ProtocolWriter(frame);
        w.WriteRequestHeader(frame.Length, CommandKey.Route, correlationId);
        w.WriteString(routingKey);
        w.WriteString(superStream);
        return Finish(frame, w);
    }

    /// <summary>The client's answer to a ConsumerUpdate (key 0x801a).</summary>
    public static byte[] ConsumerUpdateResponse(uint correlationId, ResponseCode code, OffsetSpecification offset)
    {
        var frame = new byte[H + 2 + SizeOf(offset)];
        var w = new ProtocolWriter(frame);
        w.WriteFrameHeader(frame.Length, ProtocolConstants.ToResponse(CommandKey.ConsumerUpdate), ProtocolConstants.Version1);
        w.WriteUInt32(correlationId);
        w.WriteUInt16((ushort)code);
        Write(ref w, offset);
        return Finish(frame, w);
    }

    public static byte[] ExchangeCommandVersions(uint correlationId, IReadOnlyList<CommandVersion> versions)
    {
        var frame = new byte[H + 4 + (6 * versions.Count)];
        var w = new ProtocolWriter(frame);
        w.WriteRequestHeader(frame.Length, CommandKey.ExchangeCommandVersions, correlationId);
        w.WriteInt32(versions.Count);
        foreach (var v in versions)
        {
            w.WriteUInt16(v.Key);
            w.WriteUInt16(v.MinVersion);
            w.WriteUInt16(v.MaxVersion);
        }

        return Finish(frame, w);
    }

    public static byte[] CreateSuperStream(uint correlationId, string name, IReadOnlyList<string> partitions, IReadOnlyList<string> bindingKeys, IReadOnlyDictionary<string, string>? arguments)
    {
        var frame = new byte[H + ProtocolWriter.SizeOf(name) + ProtocolWriter.SizeOf(partitions) + ProtocolWriter.SizeOf(bindingKeys) + ProtocolWriter.SizeOf(arguments)];
        var w = new ProtocolWriter(frame);
        w.WriteRequestHeader(frame.Length, CommandKey.CreateSuperStream, correlationId);
        w.WriteString(name);
        w.WriteStringArray(partitions);
        w.WriteStringArray(bindingKeys);
        w.WriteMap(arguments);
        return Finish(frame, w);
    }

    /// <summary>ResolveOffsetSpec (4.3.0+); the properties map is omitted when null or empty.</summary>
    public static byte[] ResolveOffsetSpec(uint correlationId, string stream, OffsetSpecification offset, IReadOnlyDictionary<string, string>? properties)
    {
        var hasProps = properties is { Count: > 0 };
        var frame = new byte[H + ProtocolWriter.SizeOf(stream) + SizeOf(offset) + (hasProps ? ProtocolWriter.SizeOf(properties) : 0)];
        var w = new ProtocolWriter(frame);
        w.WriteRequestHeader(frame.Length, CommandKey.ResolveOffsetSpec, correlationId);
        w.WriteString(stream);
        Write(ref w, offset);
        if (hasProps)
        {
            w.WriteMap(properties);
        }

        return Finish(frame, w);
    }
}
