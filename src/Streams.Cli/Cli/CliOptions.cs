using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Streams.Cli.Cli;

/// <summary>
/// Typed, validated options: a malformed or out-of-range value is a parse error naming the option (exit code 2),
/// found before anything is sent to the broker.
/// </summary>
internal static class CliOptions
{
    /// <summary>A whole number in <paramref name="min"/>..<paramref name="max"/> (<c>1_000_000</c> is accepted), or <paramref name="defaultValue"/>.</summary>
    public static Option<long> Int64(string name, string description, long defaultValue, long min = long.MinValue, long max = long.MaxValue) => new(name)
    {
        Description = description,
        HelpName = "N",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => ParseInt64(result, name, min, max) ?? defaultValue,
    };

    /// <summary>An optional whole number in <paramref name="min"/>..<paramref name="max"/>: null when absent.</summary>
    public static Option<long?> OptionalInt64(string name, string description, long min = long.MinValue, long max = long.MaxValue) => new(name)
    {
        Description = description,
        HelpName = "N",
        CustomParser = result => ParseInt64(result, name, min, max),
    };

    /// <summary>A flag (no value).</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>An optional text value.</summary>
    public static Option<string?> Text(string name, string description, string helpName = "TEXT") => new(name) { Description = description, HelpName = helpName };

    /// <summary>A value that may be given several times (<c>--x a --x b</c>).</summary>
    public static Option<string[]> Repeated(string name, string description, string helpName = "VALUE") => new(name)
    {
        Description = description,
        HelpName = helpName,
        Arity = ArgumentArity.ZeroOrMore,
        DefaultValueFactory = _ => [],
    };

    /// <summary>One of <paramref name="values"/> (completed by the shell), or <paramref name="defaultValue"/>.</summary>
    public static Option<string> Choice(string name, string description, string defaultValue, params string[] values)
    {
        var option = new Option<string>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.AcceptOnlyFromAmong(values);
        return option;
    }

    /// <summary>True when <paramref name="option"/> was given on the command line (not just defaulted).</summary>
    public static bool IsGiven(this SymbolResult result, Option option) => result.GetResult(option) is { Implicit: false };

    /// <summary>
    /// The value of <paramref name="option"/> for a command validator: default when the value itself is in error
    /// (its own message is reported; reading it would throw).
    /// </summary>
    public static T? Valid<T>(this CommandResult result, Option<T> option)
    {
        try
        {
            return result.GetValue(option);
        }
        catch (InvalidOperationException)
        {
            // System.CommandLine throws the conversion error of a value the parser already reported.
            return default;
        }
    }

    /// <summary>The value of <paramref name="argument"/> for a command validator: default when the value itself is in error.</summary>
    public static T? Valid<T>(this CommandResult result, Argument<T> argument)
    {
        try
        {
            return result.GetValue(argument);
        }
        catch (InvalidOperationException)
        {
            return default;
        }
    }

    private static long? ParseInt64(ArgumentResult result, string name, long min, long max)
    {
        if (result.Tokens.Count == 0)
        {
            return null;
        }

        var raw = result.Tokens[^1].Value;
        if (!long.TryParse(raw.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            result.AddError($"option {name}: '{raw}' is not a whole number");
            return null;
        }

        if (value < min || value > max)
        {
            result.AddError(string.Create(CultureInfo.InvariantCulture, $"option {name}: {value} is outside {min}..{max}"));
            return null;
        }

        return value;
    }
}
