using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace Streams.Hosting.Internal;

/// <summary>
/// Finds, at start, the constructor dependencies of a handler that the built provider cannot supply (scoped, transient
/// and keyed registrations included), so that a missing registration fails the start instead of failing every message.
/// Nothing is resolved or constructed here: the provider only answers whether it knows each service.
/// </summary>
internal static class HandlerDependencyCheck
{
    /// <summary>One message per constructor parameter of <paramref name="handlerType"/> that cannot be resolved.</summary>
    /// <param name="handlerType">The handler class.</param>
    /// <param name="isService">The built provider's answer to "is this a service?".</param>
    /// <param name="services">The service collection (to find the class behind a handler the application registered itself).</param>
    public static IReadOnlyList<string> FindMissing(Type handlerType, IServiceProviderIsService isService, IServiceCollection services)
    {
        var activated = handlerType;
        if (isService.IsService(handlerType))
        {
            // Registered by the application: the provider builds it. Only a type registration can be checked here; a
            // factory or an instance is the application's own code.
            var descriptor = services.LastOrDefault(d => !d.IsKeyedService && d.ServiceType == handlerType);
            if (descriptor?.ImplementationType is not { } implementation)
            {
                return [];
            }

            activated = implementation;
        }

        var constructors = activated.GetConstructors(BindingFlags.Public | BindingFlags.Instance);
        var preferred = constructors.Where(c => c.IsDefined(typeof(ActivatorUtilitiesConstructorAttribute), inherit: false)).ToArray();
        var candidates = preferred.Length == 1 ? preferred : constructors;
        if (candidates.Length == 0)
        {
            return [$"Stream consumer '{handlerType.FullName}': {activated.FullName} has no public constructor to activate it with."];
        }

        List<string>? best = null;
        foreach (var constructor in candidates.OrderByDescending(c => c.GetParameters().Length))
        {
            var missing = Missing(constructor, isService);
            if (missing.Count == 0)
            {
                return [];
            }

            best ??= missing;
        }

        return best!.Select(m => $"Stream consumer '{handlerType.FullName}': {m}").ToArray();
    }

    private static List<string> Missing(ConstructorInfo constructor, IServiceProviderIsService isService)
    {
        var missing = new List<string>();
        foreach (var parameter in constructor.GetParameters())
        {
            if (parameter.HasDefaultValue || parameter.IsDefined(typeof(ServiceKeyAttribute), inherit: false))
            {
                continue;
            }

            var type = parameter.ParameterType;
            if (parameter.GetCustomAttribute<FromKeyedServicesAttribute>(inherit: false) is { Key: { } key })
            {
                if (isService is not IServiceProviderIsKeyedService keyed || !keyed.IsKeyedService(type, key))
                {
                    missing.Add($"constructor parameter '{parameter.Name}' needs the keyed service {Display(type)} with key '{key}', which is not registered (register it, e.g. services.AddKeyedScoped<{Display(type)}, …>(\"{key}\")).");
                }

                continue;
            }

            if (!isService.IsService(type))
            {
                missing.Add($"constructor parameter '{parameter.Name}' needs {Display(type)}, which is not registered in the service collection (register it, e.g. services.AddScoped<{Display(type)}, …>(), or give the parameter a default value).");
            }
        }

        return missing;
    }

    private static string Display(Type type) => type.IsGenericType
        ? $"{type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(", ", type.GetGenericArguments().Select(Display))}>"
        : type.Name;
}
