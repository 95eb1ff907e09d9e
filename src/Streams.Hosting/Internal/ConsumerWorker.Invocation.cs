using Microsoft.Extensions.DependencyInjection;
using Streams.Client;

namespace Streams.Hosting.Internal;

/// <summary>Invoking the handler: scope and activation, deserialization, retries and the failure policy.</summary>
internal sealed partial class ConsumerWorker
{
    /// <summary>
    /// Handles one message: the first attempt completes without an async state machine when the handler does
    /// (the common case on the hot path); failures and asynchronous handlers continue in <see cref="HandleOneSlowAsync"/>.
    /// </summary>
    private Task HandleOneAsync(in Item item, CancellationToken stopping, CancellationToken abort)
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
            return FailAsync([item], error, attempts: 0, stopping);
        }

        var scope = CreateScope();
        object handler;
        try
        {
            handler = CreateHandler(scope);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return ActivationFailedAsync(item, scope, ex);
        }

        Task invocation;
        try
        {
            invocation = _telemetry.InvokeAsync(_invoker, handler, message, CreateContext(item, 1, message), abort);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            invocation = Task.FromException(ex);
        }

        if (invocation.IsCompletedSuccessfully && (_resolveFromContainer || !_handlerDisposable))
        {
            if (scope is not { } created)
            {
                CountHandled(1);
                return Task.CompletedTask;
            }

            var disposal = created.DisposeAsync();
            if (disposal.IsCompletedSuccessfully)
            {
                CountHandled(1);
                return Task.CompletedTask;
            }

            return CompleteAsync(disposal);
        }

        return HandleOneSlowAsync(item, message, invocation, handler, scope, stopping, abort);
    }

    private async Task CompleteAsync(ValueTask disposal)
    {
        await disposal.ConfigureAwait(false);
        CountHandled(1);
    }

    private async Task HandleOneSlowAsync(Item item, object? message, Task firstInvocation, object? firstHandler, AsyncServiceScope? firstScope, CancellationToken stopping, CancellationToken abort)
    {
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
                                await ReleaseHandlerAsync(firstHandler).ConfigureAwait(false);
                            }
                        }
                    }
                }
                else
                {
                    var scope = CreateScope();
                    await using (new ScopeLease(scope).ConfigureAwait(false))
                    {
                        var handler = ActivateOrStop(scope, item);
                        try
                        {
                            await _telemetry.InvokeAsync(_invoker, handler, message, CreateContext(item, attempt, message), abort).ConfigureAwait(false);
                        }
                        finally
                        {
                            await ReleaseHandlerAsync(handler).ConfigureAwait(false);
                        }
                    }
                }

                CountHandled(1);
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
                if (!await RetryAsync(item, attempt, ex, stopping).ConfigureAwait(false))
                {
                    await FailAsync([item], ex, attempt, stopping).ConfigureAwait(false);
                    return;
                }
            }
        }
    }

    private async Task HandleBatchAsync(List<Item> items, CancellationToken stopping, CancellationToken abort)
    {
        var valid = new List<Item>(items.Count);
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
                await FailAsync([item], error, attempts: 0, stopping).ConfigureAwait(false);
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

                var scope = CreateScope();
                await using (new ScopeLease(scope).ConfigureAwait(false))
                {
                    var handler = ActivateOrStop(scope, valid[0]);
                    try
                    {
                        await _telemetry.InvokeBatchAsync(_invoker, handler, batch, abort).ConfigureAwait(false);
                    }
                    finally
                    {
                        await ReleaseHandlerAsync(handler).ConfigureAwait(false);
                    }
                }

                CountHandled(valid.Count);
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
                if (!await RetryAsync(valid[0], attempt, ex, stopping).ConfigureAwait(false))
                {
                    await FailAsync(valid, ex, attempt, stopping).ConfigureAwait(false);
                    return;
                }
            }
        }
    }

    /// <summary>Waits before the next attempt; false when the retries are exhausted.</summary>
    private async Task<bool> RetryAsync(Item item, int attempt, Exception error, CancellationToken stopping)
    {
        if (attempt > _policy.MaxRetries)
        {
            return false;
        }

        var delay = _policy.GetRetryDelay(attempt);
        Log.HandlerRetrying(_services.Logger, _handlerName, _source, item.Offset, attempt, delay, error);
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, _services.Time, stopping).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>A fresh scope for one invocation; none when the handler depends on singletons only (see <see cref="HandlerScopeAnalyzer"/>).</summary>
    private AsyncServiceScope? CreateScope() => _singletonArguments is null ? _services.Scopes.CreateAsyncScope() : null;

    /// <summary>
    /// The handler for one message (or batch): the instance registered in DI when the application registered the
    /// handler type itself (its lifetime applies), else a new instance activated from the scope (like a controller),
    /// or, without a scope, built from the singletons resolved at start.
    /// </summary>
    private object CreateHandler(AsyncServiceScope? scope)
    {
        if (scope is not { } created)
        {
            return _factory(_services.Root, _singletonArguments);
        }

        return _resolveFromContainer
            ? created.ServiceProvider.GetRequiredService(_registration.HandlerType)
            : _factory(created.ServiceProvider, null);
    }

    /// <summary>The handler for a retry or a batch; an activation failure stops the consumer (see <see cref="StopForInfrastructure"/>).</summary>
    private object ActivateOrStop(AsyncServiceScope? scope, in Item item)
    {
        try
        {
            return CreateHandler(scope);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw StopForInfrastructure(item, ActivationError(item, ex), "the handler could not be activated");
        }
    }

    private async Task ActivationFailedAsync(Item item, AsyncServiceScope? scope, Exception error)
    {
        await using (new ScopeLease(scope).ConfigureAwait(false))
        {
            throw StopForInfrastructure(item, ActivationError(item, error), "the handler could not be activated");
        }
    }

    private StreamHandlerActivationException ActivationError(in Item item, Exception error) =>
        new($"Handler {_registration.HandlerType.FullName} could not be activated for message {_source}@{item.Offset}: {error.Message} " +
            "The consumer stopped without storing this offset; fix the registration and restart.", error);

    /// <summary>
    /// An error of the application's setup, not of the message (the handler cannot be activated, no serializer reads
    /// the content type): logged, and the consumer stops without storing the message's offset instead of retrying,
    /// skipping or dead-lettering every message that follows.
    /// </summary>
    private ConsumerStoppedException StopForInfrastructure(in Item item, Exception error, string reason)
    {
        Log.ConsumerStoppedByInfrastructure(_services.Logger, _handlerName, _source, item.Offset, reason, error);
        return new ConsumerStoppedException(error);
    }

    private async ValueTask ReleaseHandlerAsync(object handler)
    {
        if (_resolveFromContainer)
        {
            return;
        }

        if (handler is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync().ConfigureAwait(false);
        }
        else if (handler is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    private bool TryDeserialize(in Item item, out object? message, out Exception error)
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
            throw StopForInfrastructure(item, ex, "no serializer reads its content type");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            message = null;
            error = new StreamMessageFormatException(
                $"Message {_source}@{item.Offset} (content type '{decoded.Properties?.ContentType}') could not be deserialized to {_registration.MessageType.Name}: {ex.Message}", ex);
            return false;
        }
    }

    private async Task FailAsync(IReadOnlyList<Item> items, Exception error, int attempts, CancellationToken stopping)
    {
        Interlocked.Add(ref _failed, items.Count);
        _lastError = error;
        switch (_policy.AfterRetries)
        {
            case FailureAction.Skip:
                foreach (var item in items)
                {
                    Log.MessageSkipped(_services.Logger, _handlerName, _source, item.Offset, attempts, error);
                }

                break;

            case FailureAction.DeadLetter:
                var deadLetterStream = _policy.GetDeadLetterStream(_source);
                foreach (var item in items)
                {
                    try
                    {
                        if (_policy.CreateDeadLetterStream)
                        {
                            await _services.EnsureDeadLetterStreamAsync(deadLetterStream, stopping).ConfigureAwait(false);
                        }

                        await _services.Publisher.SendAsync(deadLetterStream, ToDeadLetter(item, error, attempts), null, stopping).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                    {
                        throw;
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        Log.DeadLetterFailed(_services.Logger, _handlerName, _source, item.Offset, deadLetterStream, ex);
                        throw new ConsumerStoppedException(ex);
                    }

                    Log.MessageDeadLettered(_services.Logger, _handlerName, _source, item.Offset, attempts, deadLetterStream, error);
                    _telemetry.DeadLettered(1);
                }

                break;

            default:
                Log.ConsumerStoppedByPolicy(_services.Logger, _handlerName, _source, items[0].Offset, attempts, error);
                throw new ConsumerStoppedException(error);
        }
    }

    private Message ToDeadLetter(Item item, Exception error, int attempts)
    {
        var message = item.GetMessage() ?? new Message(item.Undecodable!.Entry);
        var headers = message.ApplicationProperties ??= new Dictionary<string, object?>(StringComparer.Ordinal);
        headers["x-exception-type"] = error.GetType().FullName;
        headers["x-exception-message"] = error.Message.Length > MaxHeaderTextLength ? error.Message[..MaxHeaderTextLength] : error.Message;
        headers["x-original-stream"] = _source;
        headers["x-original-offset"] = (long)item.Offset;
        headers["x-delivery-attempts"] = attempts;
        headers["x-failed-at"] = _services.Time.GetUtcNow();
        if (_options.Name is not null)
        {
            headers["x-consumer-name"] = _options.Name;
        }

        return message;
    }

    /// <summary>
    /// The context of one invocation; a handler of <see cref="Message"/> finds the very message it was given in
    /// <see cref="StreamContext.RawMessage"/> (a body-alone entry's message is built for it).
    /// </summary>
    private StreamContext CreateContext(in Item item, int attempt, object? message) =>
        new(_contextSource, item.Offset, item.Timestamp, attempt, message as Message ?? item.Payload!);

    /// <summary>Counts handled messages: one writer (the read loop) unless lanes run handlers concurrently.</summary>
    private void CountHandled(int count)
    {
        if (_lanes)
        {
            Interlocked.Add(ref _handled, count);
        }
        else
        {
            Volatile.Write(ref _handled, _handled + count);
        }
    }

    /// <summary>Disposes an invocation's scope, if it has one.</summary>
    private readonly struct ScopeLease(AsyncServiceScope? scope) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => scope is { } created ? created.DisposeAsync() : ValueTask.CompletedTask;
    }
}
