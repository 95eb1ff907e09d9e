using System.Reflection;

namespace Streams.Hosting.Internal;

/// <summary>Finds handler types and checks their shape, with errors that name the type.</summary>
internal static class ConsumerDiscovery
{
    /// <summary>The <c>[StreamConsumer]</c> classes of an assembly (throws for a misdeclared one).</summary>
    public static IEnumerable<ConsumerRegistration> Scan(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        Type[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            types = ex.Types.Where(t => t is not null).ToArray()!;
        }

        foreach (var type in types.OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            if (type.GetCustomAttribute<StreamConsumerAttribute>(inherit: false) is not null)
            {
                yield return Describe(type, requireAttribute: true);
            }
        }
    }

    /// <summary>Describes one handler type; throws <see cref="InvalidOperationException"/> when it cannot be a consumer.</summary>
    public static ConsumerRegistration Describe(Type type, bool requireAttribute)
    {
        ArgumentNullException.ThrowIfNull(type);
        var name = type.FullName ?? type.Name;
        var attribute = type.GetCustomAttribute<StreamConsumerAttribute>(inherit: false);
        if (!type.IsClass || type.IsAbstract || type.ContainsGenericParameters)
        {
            throw new InvalidOperationException(
                $"Stream consumer '{name}' must be a non-abstract, non-generic class (it is declared with [StreamConsumer] or AddConsumer).");
        }

        var handlerInterfaces = type.GetInterfaces()
            .Where(i => i.IsGenericType && (i.GetGenericTypeDefinition() == typeof(IStreamHandler<>) || i.GetGenericTypeDefinition() == typeof(IStreamBatchHandler<>)))
            .ToArray();
        if (handlerInterfaces.Length == 0)
        {
            throw new InvalidOperationException(
                $"Stream consumer '{name}' must implement IStreamHandler<T> or IStreamBatchHandler<T>.");
        }

        if (handlerInterfaces.Length > 1)
        {
            throw new InvalidOperationException(
                $"Stream consumer '{name}' implements several handler interfaces ({string.Join(", ", handlerInterfaces.Select(Display))}); " +
                "a consumer class handles one message type of one stream: split it into one class per stream.");
        }

        if (requireAttribute && attribute is null)
        {
            throw new InvalidOperationException($"Stream consumer '{name}' has no [StreamConsumer] attribute.");
        }

        var handler = handlerInterfaces[0];
        return new ConsumerRegistration(type, handler.GetGenericArguments()[0], handler.GetGenericTypeDefinition() == typeof(IStreamBatchHandler<>), attribute);
    }

    private static string Display(Type type) =>
        $"{type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(", ", type.GetGenericArguments().Select(a => a.Name))}>";
}
