namespace Streams.Client;

/// <summary>Response codes of the RabbitMQ Streams protocol (also used by MetadataUpdate, PublishError and Close).</summary>
public enum ResponseCode : ushort
{
    /// <summary>Success.</summary>
    Ok = 0x01,
    /// <summary>The stream does not exist.</summary>
    StreamDoesNotExist = 0x02,
    /// <summary>The subscription id is already in use on this connection.</summary>
    SubscriptionIdAlreadyExists = 0x03,
    /// <summary>The subscription id is not known on this connection.</summary>
    SubscriptionIdDoesNotExist = 0x04,
    /// <summary>The stream already exists (with the same arguments).</summary>
    StreamAlreadyExists = 0x05,
    /// <summary>The stream is not available (no leader, member missing, deleted).</summary>
    StreamNotAvailable = 0x06,
    /// <summary>The SASL mechanism is not supported.</summary>
    SaslMechanismNotSupported = 0x07,
    /// <summary>Authentication failed.</summary>
    AuthenticationFailure = 0x08,
    /// <summary>Malformed SASL data.</summary>
    SaslError = 0x09,
    /// <summary>More SASL rounds are needed.</summary>
    SaslChallenge = 0x0a,
    /// <summary>The user may only connect from loopback.</summary>
    SaslAuthenticationFailureLoopback = 0x0b,
    /// <summary>The virtual host does not exist or the user has no access to it.</summary>
    VirtualHostAccessFailure = 0x0c,
    /// <summary>The peer received a frame it does not know.</summary>
    UnknownFrame = 0x0d,
    /// <summary>A frame exceeded the negotiated maximum size.</summary>
    FrameTooLarge = 0x0e,
    /// <summary>Internal broker error.</summary>
    InternalError = 0x0f,
    /// <summary>Access refused by permissions.</summary>
    AccessRefused = 0x10,
    /// <summary>A precondition failed (bad arguments, duplicate ids, conflicting stream arguments...).</summary>
    PreconditionFailed = 0x11,
    /// <summary>The publisher id is not known on this connection.</summary>
    PublisherDoesNotExist = 0x12,
    /// <summary>No offset is stored for the reference.</summary>
    NoOffset = 0x13,
    /// <summary>Re-authentication tried to change the mechanism.</summary>
    SaslCannotChangeMechanism = 0x14,
    /// <summary>Re-authentication tried to change the user name.</summary>
    SaslCannotChangeUsername = 0x15,
}
