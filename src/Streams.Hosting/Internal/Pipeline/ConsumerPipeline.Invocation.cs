using Microsoft.Extensions.DependencyInjection;
using Streams.Client;

namespace Streams.Hosting.Internal.Pipeline;

/// <summary>Invoking: deserialize, activate, invoke, then retries and the failure policy.</summary>
internal sealed partial class ConsumerPipeline
{
    /// <summary>
    /// Handles one message: the first attempt completes without an async state machine when the handler does
    /// (the common case on the hot path); failures and asynchronous handlers continue in <see cref="HandleOneSlowAsync"/>.
    /// </summary>
    private Task HandleOneAsync(in DeliveryItem item, CancellationToken stopping, CancellationToken abort)
    {
        if (item.Filtered)
        {
            return Task.CompletedTask;
        }

        // A byte[] handler gets a body-alone entry's copied body as it is (no message, no serializer).
        object? message;
        if (_bodyAsBytes && item.Body is { } body)
        {
            message = body;
        }
        else if (!TryDeserialize(item, out message, out var error))
        {
            return _failure.FailAsync([item], null, error, attempts: 0, stopping);
        }

        var scope = _activator.CreateScope();
        object handler;
        try
        {
            handler = _activator.CreateHandler(scope);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return ActivationFailedAsync(item, scope, ex);
        }

        var context = CreateContext(item, 1, message);
        Task invocation;
        try
        {
            invocation = _telemetry.InvokeAsync(_invoker, _filtered ? new FilteredInvocation(handler, scope!.Value.ServiceProvider) : handler, message, context, abort);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            invocation = Task.FromException(ex);
        }

        if (invocation.IsCompletedSuccessfully && _activator.NeedsNoRelease)
        {
            if (scope is not { } created)
            {
                Handled(message, context);
                return Task.CompletedTask;
            }

            var disposal = created.DisposeAsync();
            if (disposal.IsCompletedSuccessfully)
            {
                Handled(message, context);
                return Task.CompletedTask;
            }

            return CompleteAsync(disposal, message, context);
        }

        return HandleOneSlowAsync(item, message, invocation, context, handler, scope, stopping, abort);
    }

    /// <summary>Counts a handled message (and tells the observer, when there is one).</summary>
    private void Handled(object? message, StreamContext context)
    {
        _counters.Handled(1);
        _observer?.Consumed(_registration.HandlerType, message, context);
    }

    private async Task CompleteAsync(ValueTask disposal, object? message, StreamContext context)
    {
        await disposal.ConfigureAwait(false);
        Handled(message, context);
    }

    private async Task HandleOneSlowAsync(DeliveryItem item, object? message, Task firstInvocation, StreamContext firstContext, object? firstHandler, AsyncServiceScope? firstScope, CancellationToken stopping, CancellationToken abort)
    {
        var context = firstContext;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (attempt == 1)
                {
                    await using (new ScopeLease(firstScope).ConfigureAwait(false))
                    {
                        try
                        {
                            await firstInvocation.ConfigureAwait(false);
                        }
                        finally
                        {
                            if (firstHandler is not null)
                            {
                                await _activator.ReleaseAsync(firstHandler).ConfigureAwait(false);
                            }
                        }
                    }
                }
                else
                {
                    var scope = _activator.CreateScope();
                    await using (new ScopeLease(scope).ConfigureAwait(false))
                    {
                        var handler = ActivateOrStop(scope, item);
                        try
                        {
                            context = CreateContext(item, attempt, message);
                            await _telemetry.InvokeAsync(_invoker, _filtered ? new FilteredInvocation(handler, scope!.Value.ServiceProvider) : handler, message, context, abort).ConfigureAwait(false);
                        }
                        finally
                        {
                            await _activator.ReleaseAsync(handler).ConfigureAwait(false);
                        }
                    }
                }

                Handled(message, context);
                return;
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                throw new OperationCanceledException("The host's shutdown timeout elapsed while a handler was running; its message is not committed.", stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                // The handler gave up because the host is stopping: not a message error; handled again after the restart.
                throw new OperationCanceledException("The host is stopping and the handler was cancelled; its message is not committed.", stopping);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException and not ConsumerStoppedException)
            {
                if (!await _failure.RetryAsync(item.Offset, attempt, ex, stopping).ConfigureAwait(false))
                {
                    await _failure.FailAsync([item], [message], ex, attempt, stopping).ConfigureAwait(false);
                    return;
                }
            }
        }
    }

    private async Task HandleBatchAsync(List<DeliveryItem> items, CancellationToken stopping, CancellationToken abort)
    {
        var valid = new List<DeliveryItem>(items.Count);
        var messages = new List<object?>(items.Count);
        foreach (var item in items)
        {
            if (item.Filtered)
            {
                continue;
            }

            if (TryDeserialize(item, out var message, out var error))
            {
                valid.Add(item);
                messages.Add(message);
            }
            else
            {
                await _failure.FailAsync([item], null, error, attempts: 0, stopping).ConfigureAwait(false);
            }
        }

        if (valid.Count == 0)
        {
            return;
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var batch = new (object? Message, StreamContext Context)[valid.Count];
                for (var i = 0; i < batch.Length; i++)
                {
                    batch[i] = (messages[i], CreateContext(valid[i], attempt, messages[i]));
                }

                var scope = _activator.CreateScope();
                await using (new ScopeLease(scope).ConfigureAwait(false))
                {
                    var handler = ActivateOrStop(scope, valid[0]);
                    try
                    {
                        await _telemetry.InvokeBatchAsync(_invoker, handler, batch, abort).ConfigureAwait(false);
                    }
                    finally
                    {
                        await _activator.ReleaseAsync(handler).ConfigureAwait(false);
                    }
                }

                _counters.Handled(valid.Count);
                if (_observer is { } observer)
                {
                    foreach (var (message, context) in batch)
                    {
                        observer.Consumed(_registration.HandlerType, message, context);
                    }
                }

                return;
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                throw new OperationCanceledException("The host's shutdown timeout elapsed while a handler was running; its batch is not committed.", stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                throw new OperationCanceledException("The host is stopping and the handler was cancelled; its batch is not committed.", stopping);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException and not ConsumerStoppedException)
            {
                if (!await _failure.RetryAsync(valid[0].Offset, attempt, ex, stopping).ConfigureAwait(false))
                {
                    await _failure.FailAsync(valid, messages, ex, attempt, stopping).ConfigureAwait(false);
                    return;
                }
            }
        }
    }

    /// <summary>The handler for a retry or a batch; an activation failure stops the consumer.</summary>
    private object ActivateOrStop(AsyncServiceScope? scope, in DeliveryItem item)
    {
        try
        {
            return _activator.CreateHandler(scope);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw _failure.StopForInfrastructure(item.Offset, ActivationError(item, ex), "the handler could not be activated");
        }
    }

    private async Task ActivationFailedAsync(DeliveryItem item, AsyncServiceScope? scope, Exception error)
    {
        await using (new ScopeLease(scope).ConfigureAwait(false))
        {
            throw _failure.StopForInfrastructure(item.Offset, ActivationError(item, error), "the handler could not be activated");
        }
    }

    private StreamHandlerActivationException ActivationError(in DeliveryItem item, Exception error) =>
        new($"Handler {_registration.HandlerType.FullName} could not be activated for message {_source}@{item.Offset}: {error.Message} " +
            "The consumer stopped without storing this offset; fix the registration and restart.", error);

    private bool TryDeserialize(in DeliveryItem item, out object? message, out Exception error)
    {
        if (item.Undecodable is { Error: var decodeError })
        {
            message = null;
            error = new StreamMessageFormatException($"Message {_source}@{item.Offset} is not a valid AMQP 1.0 message: {decodeError.Message}", decodeError);
            return false;
        }

        var decoded = item.GetMessage()!;
        try
        {
            message = _invoker.Deserialize(_services.Serialization, decoded);
            error = null!;
            return true;
        }
        catch (StreamSerializerNotFoundException ex)
        {
            throw _failure.StopForInfrastructure(item.Offset, ex, "no serializer reads its content type");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            message = null;
            error = new StreamMessageFormatException(
                $"Message {_source}@{item.Offset} (content type '{decoded.Properties?.ContentType}') could not be deserialized to {_registration.MessageType.Name}: {ex.Message}", ex);
            return false;
        }
    }

    /// <summary>
    /// The context of one invocation; a handler of <see cref="Message"/> finds the very message it was given in
    /// <see cref="StreamContext.RawMessage"/> (a body-alone entry's message is built for it).
    /// </summary>
    private StreamContext CreateContext(in DeliveryItem item, int attempt, object? message) =>
        new(_contextSource, item.Offset, item.Timestamp, attempt, message as Message ?? item.Payload!);
}
