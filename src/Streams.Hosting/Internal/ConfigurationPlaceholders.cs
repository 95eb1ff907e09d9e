using System.Text;
using Microsoft.Extensions.Configuration;

namespace Streams.Hosting.Internal;

/// <summary>
/// Resolves configuration placeholders in <see cref="StreamConsumerAttribute"/> values: <c>{Orders:Stream}</c> is the
/// value of the configuration key <c>Orders:Stream</c>; a value may hold several (<c>orders-{Region}</c>); <c>{{</c>
/// and <c>}}</c> are literal braces. A placeholder whose key is missing or empty is an error, never a literal.
/// </summary>
internal static class ConfigurationPlaceholders
{
    /// <summary>
    /// <paramref name="value"/> with its placeholders replaced; throws <see cref="InvalidOperationException"/> naming
    /// <paramref name="what"/> and the key when one cannot be resolved.
    /// </summary>
    public static string Resolve(string value, IConfiguration? configuration, string what)
    {
        if (value.AsSpan().IndexOfAny('{', '}') < 0)
        {
            return value;
        }

        var result = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '}')
            {
                if (i + 1 < value.Length && value[i + 1] == '}')
                {
                    result.Append('}');
                    i++;
                    continue;
                }

                throw new InvalidOperationException($"{what} '{value}' has a '}}' without its '{{' (write '}}}}' for a literal brace).");
            }

            if (c != '{')
            {
                result.Append(c);
                continue;
            }

            if (i + 1 < value.Length && value[i + 1] == '{')
            {
                result.Append('{');
                i++;
                continue;
            }

            var end = value.IndexOf('}', i + 1);
            if (end < 0)
            {
                throw new InvalidOperationException($"{what} '{value}' has a '{{' without its '}}' (write '{{{{' for a literal brace).");
            }

            var key = value[(i + 1)..end].Trim();
            if (key.Length == 0 || key.Contains('{', StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{what} '{value}' has an empty or malformed placeholder; write {{Section:Key}}.");
            }

            if (configuration is null)
            {
                throw new InvalidOperationException(
                    $"{what} '{value}' uses the configuration placeholder {{{key}}} but no IConfiguration is registered (a host registers it; else add services.AddSingleton<IConfiguration>(configuration)).");
            }

            var resolved = configuration[key];
            if (string.IsNullOrEmpty(resolved))
            {
                throw new InvalidOperationException(
                    $"{what} '{value}': configuration key '{key}' is {(resolved is null ? "not set" : "empty")}; set it (e.g. in appsettings.json or as the environment variable {key.Replace(":", "__", StringComparison.Ordinal)}).");
            }

            result.Append(resolved);
            i = end;
        }

        return result.ToString();
    }
}
