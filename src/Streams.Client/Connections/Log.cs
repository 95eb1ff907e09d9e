using Microsoft.Extensions.Logging;

namespace Streams.Client.Connections;

internal static partial class Log
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Debug, Message = "Connecting to {Host}:{Port}")]
    public static partial void Connecting(ILogger logger, string host, int port);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Connected to {Host}:{Port} (vhost '{VirtualHost}', frame max {FrameMax}, heartbeat {Heartbeat}, deliver v2 {DeliverV2}, publish v2 {PublishV2})")]
    public static partial void Connected(ILogger logger, string host, int port, string virtualHost, int frameMax, TimeSpan heartbeat, bool deliverV2, bool publishV2);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Connection to {Host}:{Port} closed: {Reason}")]
    public static partial void Closed(ILogger logger, string host, int port, ConnectionClosedEventArgs reason);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Response with unknown correlation id {CorrelationId} (key 0x{Key:x4}) ignored")]
    public static partial void UnknownCorrelation(ILogger logger, uint correlationId, ushort key);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Debug, Message = "Frame with key 0x{Key:x4} for unknown {Kind} id {Id} ignored")]
    public static partial void UnknownTarget(ILogger logger, ushort key, string kind, byte id);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Unexpected frame key 0x{Key:x4} version {Version} ignored")]
    public static partial void UnknownFrame(ILogger logger, ushort key, ushort version);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Error, Message = "A frame handler threw while processing key 0x{Key:x4}")]
    public static partial void HandlerFailed(ILogger logger, ushort key, Exception exception);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "The broker closed the connection: code {Code}, reason '{Reason}'")]
    public static partial void ServerClose(ILogger logger, ResponseCode code, string reason);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "No data from {Host}:{Port} for {Elapsed}: heartbeat timeout")]
    public static partial void HeartbeatTimeout(ILogger logger, string host, int port, TimeSpan elapsed);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Debug, Message = "MetadataUpdate for stream '{Stream}': {Code}")]
    public static partial void MetadataUpdate(ILogger logger, string stream, ResponseCode code);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "Failed to answer ConsumerUpdate for subscription {SubscriptionId}")]
    public static partial void ConsumerUpdateFailed(ILogger logger, byte subscriptionId, Exception exception);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Debug, Message = "Close handshake did not complete cleanly")]
    public static partial void CloseHandshakeFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Debug, Message = "Sending heartbeat failed")]
    public static partial void HeartbeatSendFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Debug, Message = "Load-balancer mode: reached the wanted node {Host}:{Port} on attempt {Attempt}")]
    public static partial void ResolverReached(ILogger logger, string host, int port, int attempt);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Debug, Message = "Load-balancer mode: reached {Host}:{Port}, wanted {Wanted}; closing and retrying (attempt {Attempt})")]
    public static partial void ResolverWrongNode(ILogger logger, string host, int port, string wanted, int attempt);

    [LoggerMessage(EventId = 1015, Level = LogLevel.Error, Message = "Closing the connection to {Host}:{Port}: the broker broke the protocol ({Violation})")]
    public static partial void ProtocolViolation(ILogger logger, string host, int port, string violation, Exception exception);

    [LoggerMessage(EventId = 1016, Level = LogLevel.Information, Message = "Connection to {Host}:{Port} re-authenticated user '{UserName}' with a new secret")]
    public static partial void Reauthenticated(ILogger logger, string host, int port, string userName);

    [LoggerMessage(EventId = 1017, Level = LogLevel.Error, Message = "The broker {Host}:{Port} refused to re-authenticate user '{UserName}' (code {Code}); closing the connection so that its producers and consumers recover")]
    public static partial void ReauthenticationRefused(ILogger logger, string host, int port, string userName, ResponseCode code, Exception exception);
}
