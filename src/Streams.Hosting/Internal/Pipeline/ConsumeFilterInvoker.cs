using Microsoft.Extensions.DependencyInjection;
using Streams.Client;

namespace Streams.Hosting.Internal.Pipeline;

/// <summary>
/// The consume-filter stage: runs the registered <see cref="IStreamConsumeFilter"/>s around the handler. It is the
/// consumer's <see cref="HandlerInvoker"/> only when filters are registered (the telemetry's process span then covers
/// them); the pipeline hands it a <see cref="FilteredInvocation"/> (the handler and its scope) as the handler.
/// </summary>
internal sealed class ConsumeFilterInvoker : HandlerInvoker
{
    private readonly HandlerInvoker _inner;
    private readonly FilterActivation[] _filters;
    private readonly Type _handlerType;
    private readonly Type _messageType;

    public ConsumeFilterInvoker(HandlerInvoker inner, IReadOnlyList<Type> filters, Type handlerType, Type messageType, IServiceProviderIsService isService)
    {
        _inner = inner;
        _filters = [.. filters.Select(f => new FilterActivation(f, isService.IsService(f)))];
        _handlerType = handlerType;
        _messageType = messageType;
    }

    public override object? Deserialize(MessageSerialization serialization, Message message) => _inner.Deserialize(serialization, message);

    public override Task InvokeAsync(object handler, object? message, StreamContext context, CancellationToken cancellationToken)
    {
        var invocation = (FilteredInvocation)handler;
        return Next(new StreamConsumeContext(message, context, _handlerType, _messageType, invocation.Services, invocation.Handler, cancellationToken), 0);
    }

    public override Task InvokeBatchAsync(object handler, IReadOnlyList<(object? Message, StreamContext Context)> items, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("Consume filters do not wrap batch handlers.");

    private Task Next(StreamConsumeContext context, int index) =>
        index == _filters.Length
            ? _inner.InvokeAsync(context.Handler, context.Message, context.StreamContext, context.CancellationToken)
            : RunFilterAsync(context, index);

    private async Task RunFilterAsync(StreamConsumeContext context, int index)
    {
        var activation = _filters[index];
        var filter = activation.Create(context.Services);
        try
        {
            await filter.InvokeAsync(context, c => Next(c ?? context, index + 1)).ConfigureAwait(false);
        }
        finally
        {
            await activation.ReleaseAsync(filter).ConfigureAwait(false);
        }
    }

    /// <summary>A filter type: resolved from the scope when the application registered it, else activated from it (and disposed after use).</summary>
    private sealed class FilterActivation(Type type, bool registered)
    {
        private readonly ObjectFactory _factory = ActivatorUtilities.CreateFactory(type, Type.EmptyTypes);

        public IStreamConsumeFilter Create(IServiceProvider services) =>
            (IStreamConsumeFilter)(registered ? services.GetRequiredService(type) : _factory(services, null));

        public async ValueTask ReleaseAsync(IStreamConsumeFilter filter)
        {
            if (registered)
            {
                return;
            }

            if (filter is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
            }
            else if (filter is IDisposable disposable)
            {
                disposable.Dispose();
            }
        }
    }
}

/// <summary>What the pipeline hands <see cref="ConsumeFilterInvoker"/> as the handler: the handler and its invocation's scope.</summary>
internal sealed record FilteredInvocation(object Handler, IServiceProvider Services);
