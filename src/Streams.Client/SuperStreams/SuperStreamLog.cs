using Microsoft.Extensions.Logging;

namespace Streams.Client.SuperStreams;

internal static partial class SuperStreamLog
{
    [LoggerMessage(EventId = 5000, Level = LogLevel.Information, Message = "Super stream '{SuperStream}' partitions changed: {Partitions} (added: {Added}; removed: {Removed})")]
    public static partial void PartitionsChanged(ILogger logger, string superStream, IReadOnlyList<string> partitions, IReadOnlyList<string> added, IReadOnlyList<string> removed);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "Refreshing the partitions of super stream '{SuperStream}' failed")]
    public static partial void RefreshFailed(ILogger logger, string superStream, Exception exception);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Debug, Message = "Super stream '{SuperStream}': producer for partition '{Partition}' was closed; a new one will be created")]
    public static partial void ReplacingClosedProducer(ILogger logger, string superStream, string partition);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Super stream '{SuperStream}': consumer of partition '{Partition}' stopped")]
    public static partial void PartitionConsumerStopped(ILogger logger, string superStream, string partition, Exception? exception);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "Super stream '{SuperStream}': closing the client of partition '{Partition}' failed")]
    public static partial void DisposeFailed(ILogger logger, string superStream, string partition, Exception exception);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Information, Message = "Super stream '{SuperStream}': partition '{Partition}' was removed; its consumer is closed")]
    public static partial void PartitionConsumerRemoved(ILogger logger, string superStream, string partition);
}
