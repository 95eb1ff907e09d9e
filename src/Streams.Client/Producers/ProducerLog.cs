using Microsoft.Extensions.Logging;

namespace Streams.Client.Producers;

internal static partial class ProducerLog
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Producer {PublisherId} declared on stream {Stream} (reference {Reference}); next publishing id {NextId}")]
    public static partial void Declared(ILogger logger, byte publisherId, string stream, string? reference, ulong nextId);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "A confirmation callback of the producer on stream {Stream} threw")]
    public static partial void CallbackFailed(ILogger logger, string stream, Exception exception);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Writing a Publish frame for stream {Stream} failed; the producer closes")]
    public static partial void WriteFailed(ILogger logger, string stream, Exception exception);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "The producer on stream {Stream} closed: {Reason}; {Count} unconfirmed messages failed")]
    public static partial void Closed(ILogger logger, string stream, string reason, int count);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "{Count} messages of the producer on stream {Stream} were not confirmed within {Timeout}")]
    public static partial void TimedOut(ILogger logger, string stream, int count, TimeSpan timeout);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Debug, Message = "Deleting publisher {PublisherId} of stream {Stream} failed")]
    public static partial void DeleteFailed(ILogger logger, byte publisherId, string stream, Exception exception);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Information, Message = "The producer on stream {Stream} resumed as publisher {PublisherId}: {Frames} frames to (re-)send, last stored publishing id {LastStored}")]
    public static partial void Resumed(ILogger logger, string stream, byte publisherId, int frames, ulong lastStored);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Warning, Message = "The unnamed producer on stream {Stream} lost its connection: {Count} written but unconfirmed messages failed (their fate is unknown)")]
    public static partial void FailedUnconfirmed(ILogger logger, string stream, int count);

    [LoggerMessage(EventId = 2009, Level = LogLevel.Warning, Message = "The {Compression} codec made a sub-entry batch of {Records} messages ({Bytes} bytes) on stream {Stream} larger than a frame ({FrameMax} bytes) holds; the batch was sent uncompressed")]
    public static partial void SubEntryNotCompressed(ILogger logger, string stream, CompressionType compression, int records, int bytes, int frameMax);
}
