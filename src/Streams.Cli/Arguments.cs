using System.Globalization;

namespace Streams.Cli;

/// <summary>
/// Parsed <c>--name value</c> / <c>--flag</c> options of one command. Every option must be declared by the
/// command: unknown options, missing values and malformed numbers are <see cref="UsageException"/>s.
/// </summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    private Arguments(List<string> positional) => Positional = positional;

    public IReadOnlyList<string> Positional { get; }

    /// <summary>Parses <paramref name="args"/>; <paramref name="valueOptions"/> take a value, <paramref name="flagOptions"/> do not.</summary>
    public static Arguments Parse(IReadOnlyList<string> args, IReadOnlyCollection<string> valueOptions, IReadOnlyCollection<string> flagOptions)
    {
        var result = new Arguments([]);
        var positional = (List<string>)result.Positional;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                positional.Add(arg);
                continue;
            }

            var name = arg[2..];
            string? inlineValue = null;
            var eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                inlineValue = name[(eq + 1)..];
                name = name[..eq];
            }

            if (flagOptions.Contains(name))
            {
                if (inlineValue is not null)
                {
                    throw new UsageException($"option --{name} takes no value");
                }

                result._flags.Add(name);
            }
            else if (valueOptions.Contains(name))
            {
                var value = inlineValue ?? (i + 1 < args.Count ? args[++i] : throw new UsageException($"option --{name} needs a value"));
                if (!result._values.TryGetValue(name, out var list))
                {
                    result._values[name] = list = [];
                }

                list.Add(value);
            }
            else
            {
                var known = string.Join(", ", valueOptions.Concat(flagOptions).Order(StringComparer.Ordinal).Select(o => "--" + o));
                throw new UsageException($"unknown option --{name} (known: {known})");
            }
        }

        return result;
    }

    public bool Flag(string name) => _flags.Contains(name);

    public string? Value(string name) => _values.TryGetValue(name, out var list) ? list[^1] : null;

    public IReadOnlyList<string> Values(string name) => _values.TryGetValue(name, out var list) ? list : [];

    public string Required(string name) => Value(name) ?? throw new UsageException($"option --{name} is required");

    public long Int64(string name, long defaultValue, long min = long.MinValue, long max = long.MaxValue)
    {
        var raw = Value(name);
        if (raw is null)
        {
            return defaultValue;
        }

        if (!long.TryParse(raw.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            throw new UsageException($"option --{name}: '{raw}' is not a whole number");
        }

        if (value < min || value > max)
        {
            throw new UsageException($"option --{name}: {value} is outside {min}..{max}");
        }

        return value;
    }
}
