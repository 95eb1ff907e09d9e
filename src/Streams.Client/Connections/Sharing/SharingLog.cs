using Microsoft.Extensions.Logging;

namespace Streams.Client.Connections.Sharing;

internal static partial class SharingLog
{
    [LoggerMessage(EventId = 1050, Level = LogLevel.Debug, Message = "Opened shared {Role} connection {Host}:{Port} ({Open} open for this role, up to {Max} entities each)")]
    public static partial void Opened(ILogger logger, ConnectionRole role, string host, int port, int open, int max);

    [LoggerMessage(EventId = 1051, Level = LogLevel.Debug, Message = "Closing shared {Role} connection {Host}:{Port}: its last entity closed")]
    public static partial void LastLeaseReleased(ILogger logger, ConnectionRole role, string host, int port);

    [LoggerMessage(EventId = 1052, Level = LogLevel.Warning, Message = "The broker did not answer the removal of {Kind} id {Id} on {Host}:{Port}; the id is retired for the life of the connection")]
    public static partial void IdRetired(ILogger logger, string host, int port, string kind, byte id);
}
