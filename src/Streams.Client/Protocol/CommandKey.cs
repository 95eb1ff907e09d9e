namespace Streams.Client.Protocol;

/// <summary>Command keys of the RabbitMQ Streams protocol (the response key sets <see cref="ProtocolConstants.ResponseFlag"/>).</summary>
internal enum CommandKey : ushort
{
    DeclarePublisher = 0x01,
    Publish = 0x02,
    PublishConfirm = 0x03,
    PublishError = 0x04,
    QueryPublisherSequence = 0x05,
    DeletePublisher = 0x06,
    Subscribe = 0x07,
    Deliver = 0x08,
    Credit = 0x09,
    StoreOffset = 0x0a,
    QueryOffset = 0x0b,
    Unsubscribe = 0x0c,
    Create = 0x0d,
    Delete = 0x0e,
    Metadata = 0x0f,
    MetadataUpdate = 0x10,
    PeerProperties = 0x11,
    SaslHandshake = 0x12,
    SaslAuthenticate = 0x13,
    Tune = 0x14,
    Open = 0x15,
    Close = 0x16,
    Heartbeat = 0x17,
    Route = 0x18,
    Partitions = 0x19,
    ConsumerUpdate = 0x1a,
    ExchangeCommandVersions = 0x1b,
    StreamStats = 0x1c,
    CreateSuperStream = 0x1d,
    DeleteSuperStream = 0x1e,
    ResolveOffsetSpec = 0x1f,
}

/// <summary>Framing constants.</summary>
internal static class ProtocolConstants
{
    /// <summary>Bytes of the u32 size prefix.</summary>
    public const int SizePrefix = 4;

    /// <summary>Bytes of key + version.</summary>
    public const int KeyVersionSize = 4;

    /// <summary>Size prefix + key + version.</summary>
    public const int FrameHeaderSize = SizePrefix + KeyVersionSize;

    /// <summary>Size prefix + key + version + correlation id.</summary>
    public const int RequestHeaderSize = FrameHeaderSize + 4;

    /// <summary>The bit marking a response key.</summary>
    public const ushort ResponseFlag = 0x8000;

    /// <summary>The protocol version of every command but Publish/Deliver v2.</summary>
    public const ushort Version1 = 1;

    /// <summary>Version 2 (Publish with filter values, Deliver with committed chunk id).</summary>
    public const ushort Version2 = 2;

    /// <summary>Maximum length of a publisher or offset-tracking reference, in UTF-8 bytes.</summary>
    public const int MaxReferenceLength = 255;

    /// <summary>Response key of a request key.</summary>
    public static ushort ToResponse(CommandKey key) => (ushort)((ushort)key | ResponseFlag);
}
