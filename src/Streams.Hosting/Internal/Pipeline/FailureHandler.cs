using Microsoft.Extensions.Logging;
using Streams.Client;
using Streams.Hosting.Telemetry;

namespace Streams.Hosting.Internal.Pipeline;

/// <summary>
/// The retry and failure-policy stage: waits between attempts (<see cref="HandlerFailurePolicy.MaxRetries"/>, its
/// back-off on the host's <see cref="TimeProvider"/>), then skips, dead-letters (with the <c>x-*</c> headers) or
/// stops the consumer. A setup error (no serializer, handler not activatable) stops the consumer at once.
/// </summary>
internal sealed class FailureHandler
{
    private const int MaxHeaderTextLength = 4096;

    private readonly HandlerFailurePolicy _policy;
    private readonly ConsumerWorkerServices _services;
    private readonly ConsumerTelemetry _telemetry;
    private readonly ConsumerCounters _counters;
    private readonly ILogger _logger;
    private readonly Type _handlerType;
    private readonly Type _messageType;
    private readonly string _source;
    private readonly string? _consumerName;

    public FailureHandler(HandlerFailurePolicy policy, ConsumerWorkerServices services, ConsumerTelemetry telemetry, ConsumerCounters counters, Type handlerType, Type messageType, string source, string? consumerName)
    {
        _policy = policy;
        _services = services;
        _telemetry = telemetry;
        _counters = counters;
        _logger = services.Logger;
        _handlerType = handlerType;
        _messageType = messageType;
        _source = source;
        _consumerName = consumerName;
    }

    private string HandlerName => _handlerType.Name;

    /// <summary>Waits before the next attempt; false when the retries are exhausted.</summary>
    public async Task<bool> RetryAsync(ulong offset, int attempt, Exception error, CancellationToken stopping)
    {
        if (attempt > _policy.MaxRetries)
        {
            return false;
        }

        var delay = _policy.GetRetryDelay(attempt);
        Log.HandlerRetrying(_logger, HandlerName, _source, offset, attempt, delay, error);
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, _services.Time, stopping).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>
    /// Applies the policy after the last attempt (<paramref name="attempts"/> 0: the message could not be read);
    /// <paramref name="messages"/> are the deserialized messages of <paramref name="items"/> when they were read.
    /// </summary>
    public async Task FailAsync(IReadOnlyList<DeliveryItem> items, IReadOnlyList<object?>? messages, Exception error, int attempts, CancellationToken stopping)
    {
        _counters.Failed(items.Count, error);
        if (_services.Observer is { } observer)
        {
            for (var i = 0; i < items.Count; i++)
            {
                observer.Faulted(_handlerType, _messageType, _source, items[i].Offset, messages is null ? items[i].Payload : messages[i], error, attempts);
            }
        }

        switch (_policy.AfterRetries)
        {
            case FailureAction.Skip:
                foreach (var item in items)
                {
                    Log.MessageSkipped(_logger, HandlerName, _source, item.Offset, attempts, error);
                }

                break;

            case FailureAction.DeadLetter:
                var deadLetterStream = _policy.GetDeadLetterStream(_source);
                foreach (var item in items)
                {
                    var deadLetter = ToDeadLetter(item, error, attempts);
                    try
                    {
                        if (_policy.CreateDeadLetterStream)
                        {
                            await _services.EnsureDeadLetterStreamAsync(deadLetterStream, stopping).ConfigureAwait(false);
                        }

                        await _services.Publisher.SendAsync(deadLetterStream, deadLetter, null, stopping).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                    {
                        throw;
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        Log.DeadLetterFailed(_logger, HandlerName, _source, item.Offset, deadLetterStream, ex);
                        throw new ConsumerStoppedException(ex);
                    }

                    Log.MessageDeadLettered(_logger, HandlerName, _source, item.Offset, attempts, deadLetterStream, error);
                    _telemetry.DeadLettered(1);
                    _services.Observer?.DeadLettered(_source, deadLetterStream, deadLetter);
                }

                break;

            default:
                Log.ConsumerStoppedByPolicy(_logger, HandlerName, _source, items[0].Offset, attempts, error);
                throw new ConsumerStoppedException(error);
        }
    }

    /// <summary>
    /// An error of the application's setup, not of the message (the handler cannot be activated, no serializer reads
    /// the content type): logged, and the consumer stops without storing the message's offset instead of retrying,
    /// skipping or dead-lettering every message that follows.
    /// </summary>
    public ConsumerStoppedException StopForInfrastructure(ulong offset, Exception error, string reason)
    {
        Log.ConsumerStoppedByInfrastructure(_logger, HandlerName, _source, offset, reason, error);
        return new ConsumerStoppedException(error);
    }

    /// <summary>The message as it was read (the stored bytes when it could not be decoded) with the failure's <c>x-*</c> headers.</summary>
    internal Message ToDeadLetter(in DeliveryItem item, Exception error, int attempts)
    {
        var message = item.GetMessage() ?? new Message(item.Undecodable!.Entry);
        var headers = message.ApplicationProperties ??= new Dictionary<string, object?>(StringComparer.Ordinal);
        headers[DeadLetterHeaders.ExceptionType] = error.GetType().FullName;
        headers[DeadLetterHeaders.ExceptionMessage] = error.Message.Length > MaxHeaderTextLength ? error.Message[..MaxHeaderTextLength] : error.Message;
        headers[DeadLetterHeaders.OriginalStream] = _source;
        headers[DeadLetterHeaders.OriginalOffset] = (long)item.Offset;
        headers[DeadLetterHeaders.DeliveryAttempts] = attempts;
        headers[DeadLetterHeaders.FailedAt] = _services.Time.GetUtcNow();
        if (_consumerName is not null)
        {
            headers[DeadLetterHeaders.ConsumerName] = _consumerName;
        }

        return message;
    }
}
