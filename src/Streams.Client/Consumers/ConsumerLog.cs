using Microsoft.Extensions.Logging;

namespace Streams.Client.Consumers;

internal static partial class ConsumerLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Subscription {SubscriptionId} on stream {Stream} started at {Offset}")]
    public static partial void Subscribed(ILogger logger, byte subscriptionId, string stream, OffsetSpecification offset);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "The broker refused a credit for subscription {SubscriptionId} on stream {Stream}: {Code}")]
    public static partial void CreditError(ILogger logger, byte subscriptionId, string stream, ResponseCode code);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "Sending a credit for subscription {SubscriptionId} on stream {Stream} failed")]
    public static partial void CreditFailed(ILogger logger, byte subscriptionId, string stream, Exception exception);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Debug, Message = "Unsubscribing {SubscriptionId} from stream {Stream} failed")]
    public static partial void UnsubscribeFailed(ILogger logger, byte subscriptionId, string stream, Exception exception);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "The message handler of the consumer on stream {Stream} threw; the consumer stops")]
    public static partial void HandlerFailed(ILogger logger, string stream, Exception exception);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "The consumer on stream {Stream} stopped")]
    public static partial void Stopped(ILogger logger, string stream, Exception exception);
}
