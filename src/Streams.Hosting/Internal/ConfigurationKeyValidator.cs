using System.Collections;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Streams.Hosting.Internal;

/// <summary>
/// Fails the start when the <c>RabbitStreams</c> configuration section holds a key that binds to nothing (a misspelled
/// <c>ConectionString</c>, <c>FailurePolicy:MaxRetry</c>, a <c>Consumer</c> section): the binder ignores such keys, so the
/// application would silently run on defaults. Every unknown key is reported, with the nearest known key when one is
/// close ("did you mean …?"). The known keys are read from the options types themselves, so they cannot drift.
/// </summary>
internal sealed class ConfigurationKeyValidator : IValidateOptions<RabbitStreamsOptions>
{
    private readonly IConfigurationSection _section;

    public ConfigurationKeyValidator(IConfigurationSection section)
    {
        _section = section;
    }

    public ValidateOptionsResult Validate(string? name, RabbitStreamsOptions options)
    {
        var errors = new List<string>();
        Check(_section, typeof(RabbitStreamsOptions), errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Checks the children of <paramref name="section"/> against the bindable properties of <paramref name="type"/>.</summary>
    private static void Check(IConfigurationSection section, Type type, List<string> errors)
    {
        var properties = BindableProperties(type);
        foreach (var child in section.GetChildren())
        {
            if (!properties.TryGetValue(child.Key, out var property))
            {
                var nearest = Nearest(child.Key, properties.Keys);
                errors.Add(nearest is null
                    ? $"{child.Path} is not a known setting; known keys under {section.Path}: {string.Join(", ", properties.Keys.Order(StringComparer.Ordinal))}."
                    : $"{child.Path} is not a known setting (did you mean {section.Path}:{nearest}?).");
                continue;
            }

            CheckValue(child, property.PropertyType, errors);
        }
    }

    private static void CheckValue(IConfigurationSection section, Type type, List<string> errors)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (IsLeaf(type))
        {
            foreach (var child in section.GetChildren())
            {
                errors.Add($"{child.Path} is not a known setting: {section.Path} is a single value, not a section.");
            }

            return;
        }

        if (DictionaryValueType(type) is { } valueType)
        {
            foreach (var entry in section.GetChildren())
            {
                CheckValue(entry, valueType, errors);
            }

            return;
        }

        if (ListElementType(type) is { } elementType)
        {
            foreach (var item in section.GetChildren())
            {
                if (!int.TryParse(item.Key, out _))
                {
                    errors.Add($"{item.Path} is not a known setting: the items of {section.Path} are numbered (0, 1, ...).");
                    continue;
                }

                CheckValue(item, elementType, errors);
            }

            return;
        }

        Check(section, type, errors);
    }

    private static Dictionary<string, PropertyInfo> BindableProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && (p.SetMethod?.IsPublic == true || !IsLeaf(p.PropertyType)))
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

    private static bool IsLeaf(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
            || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Uri) || type == typeof(Guid);
    }

    private static Type? DictionaryValueType(Type type) =>
        GenericArgument(type, typeof(IDictionary<,>), 1) ?? GenericArgument(type, typeof(IReadOnlyDictionary<,>), 1);

    private static Type? ListElementType(Type type) =>
        type.IsArray ? type.GetElementType() : typeof(IEnumerable).IsAssignableFrom(type) ? GenericArgument(type, typeof(IEnumerable<>), 0) : null;

    private static Type? GenericArgument(Type type, Type generic, int index)
    {
        var match = type.IsGenericType && type.GetGenericTypeDefinition() == generic
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == generic);
        return match?.GetGenericArguments()[index];
    }

    /// <summary>The known key closest to <paramref name="key"/> by edit distance, when it is close enough to be a typo.</summary>
    internal static string? Nearest(string key, IEnumerable<string> known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var distance = Distance(key.ToUpperInvariant(), candidate.ToUpperInvariant());
            if (distance < bestDistance || (distance == bestDistance && string.CompareOrdinal(candidate, best) < 0))
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        // A typo, a missing or extra letter or two, or a singular/plural slip; beyond that the guess would mislead.
        var threshold = key.Length <= 4 ? 1 : Math.Max(3, key.Length / 3);
        return bestDistance <= threshold ? best : null;
    }

    /// <summary>Edit distance with adjacent transpositions (optimal string alignment): "Hots" is one edit from "Host".</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
