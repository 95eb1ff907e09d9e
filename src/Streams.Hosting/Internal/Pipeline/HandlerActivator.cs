using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;

namespace Streams.Hosting.Internal.Pipeline;

/// <summary>
/// The activation stage: a handler for one message (or batch) and the DI scope it lives in. The instance registered
/// in DI when the application registered the handler type itself (its lifetime applies), else a new instance
/// activated from a fresh scope (like a controller), or, when its constructor takes singletons only (see
/// <see cref="HandlerScopeAnalyzer"/>), built from those singletons resolved at start without a scope.
/// </summary>
internal sealed class HandlerActivator
{
    private readonly Type _handlerType;
    private readonly IServiceScopeFactory _scopes;
    private readonly IServiceProvider _root;
    private readonly ObjectFactory _factory;
    private readonly object[]? _singletonArguments;
    private readonly bool _scoped;

    public HandlerActivator(Type handlerType, ConsumerWorkerServices services, bool scopeRequired)
    {
        _handlerType = handlerType;
        _scopes = services.Scopes;
        _root = services.Root;
        ResolvesFromContainer = services.IsService.IsService(handlerType);
        var singletons = ResolvesFromContainer ? null : services.ScopeAnalyzer.FindSingletonArguments(handlerType, services.Scopes);
        _singletonArguments = singletons?.Values;
        _factory = ActivatorUtilities.CreateFactory(handlerType, singletons?.Types ?? Type.EmptyTypes);
        _scoped = _singletonArguments is null || scopeRequired;
        IsDisposable = typeof(IDisposable).IsAssignableFrom(handlerType) || typeof(IAsyncDisposable).IsAssignableFrom(handlerType);
    }

    /// <summary>The application registered the handler type in DI: the container owns its instances.</summary>
    public bool ResolvesFromContainer { get; }

    /// <summary>The handler class is disposable (an activated instance is disposed after its invocation).</summary>
    public bool IsDisposable { get; }

    /// <summary>Nothing to release after an invocation that completed synchronously (no disposable instance of ours).</summary>
    public bool NeedsNoRelease => ResolvesFromContainer || !IsDisposable;

    /// <summary>A fresh scope for one invocation; none when the handler depends on singletons only and no consume filter needs one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public AsyncServiceScope? CreateScope() => _scoped ? _scopes.CreateAsyncScope() : null;

    /// <summary>The handler for one invocation in <paramref name="scope"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public object CreateHandler(AsyncServiceScope? scope)
    {
        if (_singletonArguments is not null)
        {
            return _factory(_root, _singletonArguments);
        }

        var provider = scope!.Value.ServiceProvider;
        return ResolvesFromContainer ? provider.GetRequiredService(_handlerType) : _factory(provider, null);
    }

    /// <summary>Disposes an instance this activator built (not one the container owns).</summary>
    public async ValueTask ReleaseAsync(object handler)
    {
        if (ResolvesFromContainer)
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
}

/// <summary>Disposes an invocation's scope, if it has one.</summary>
internal readonly struct ScopeLease(AsyncServiceScope? scope) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => scope is { } created ? created.DisposeAsync() : ValueTask.CompletedTask;
}
