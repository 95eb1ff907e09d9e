using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace Streams.Hosting.Internal;

/// <summary>
/// Decides whether activating a handler needs a DI scope. A handler whose only constructor takes nothing but
/// singletons sees the same services in every scope, so a scope per message would be pure cost: such handlers are
/// built from those singletons, resolved once (still a new handler instance per message, disposed by the worker).
/// Anything else — scoped or transient dependencies, <see cref="IServiceProvider"/>, several constructors, keyed or
/// optional parameters — gets a fresh scope per message.
/// </summary>
internal sealed class HandlerScopeAnalyzer(IServiceCollection services)
{
    /// <summary>The application's service collection (read only after the provider is built).</summary>
    public IServiceCollection Services => services;

    /// <summary>
    /// The singletons <paramref name="handlerType"/>'s constructor takes (in order) when it needs no scope; null when
    /// it needs a scope per invocation.
    /// </summary>
    public SingletonArguments? FindSingletonArguments(Type handlerType, IServiceScopeFactory scopes)
    {
        var constructors = handlerType.GetConstructors(BindingFlags.Public | BindingFlags.Instance);
        if (constructors.Length != 1)
        {
            return null;
        }

        var parameters = constructors[0].GetParameters();
        foreach (var parameter in parameters)
        {
            if (parameter.HasDefaultValue
                || parameter.IsDefined(typeof(FromKeyedServicesAttribute), inherit: false)
                || parameter.IsDefined(typeof(ServiceKeyAttribute), inherit: false)
                || FindLifetime(parameter.ParameterType) != ServiceLifetime.Singleton)
            {
                return null;
            }
        }

        return ResolveSameInTwoScopes(parameters, scopes) is { } values
            ? new SingletonArguments(Array.ConvertAll(parameters, p => p.ParameterType), values)
            : null;
    }

    /// <summary>The lifetime of the registration the provider uses for <paramref name="type"/> (the last one), if any.</summary>
    private ServiceLifetime? FindLifetime(Type type)
    {
        var open = type.IsConstructedGenericType ? type.GetGenericTypeDefinition() : null;
        ServiceLifetime? closed = null, generic = null;
        foreach (var descriptor in services)
        {
            if (descriptor.IsKeyedService)
            {
                continue;
            }

            if (descriptor.ServiceType == type)
            {
                closed = descriptor.Lifetime;
            }
            else if (open is not null && descriptor.ServiceType == open)
            {
                generic = descriptor.Lifetime;
            }
        }

        return closed ?? generic;
    }

    /// <summary>
    /// Confirms with the built provider (the collection may have been copied or changed after registration): every
    /// dependency resolves to the same instance in two scopes. Only singletons are resolved here.
    /// </summary>
    private static object[]? ResolveSameInTwoScopes(ParameterInfo[] parameters, IServiceScopeFactory scopes)
    {
        using var first = scopes.CreateScope();
        using var second = scopes.CreateScope();
        var arguments = new object[parameters.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            var a = first.ServiceProvider.GetService(parameters[i].ParameterType);
            if (a is null || !ReferenceEquals(a, second.ServiceProvider.GetService(parameters[i].ParameterType)))
            {
                return null;
            }

            arguments[i] = a;
        }

        return arguments;
    }
}

/// <summary>A handler constructor's parameter types and the singletons that fill them.</summary>
internal sealed record SingletonArguments(Type[] Types, object[] Values);
