using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Streams.Cli;

/// <summary>Text in which <c>{seq}</c> stands for the message's 1-based sequence number.</summary>
internal sealed class MessageTemplate
{
    private const string Placeholder = "{seq}";
    private readonly string _text;

    public MessageTemplate(string text)
    {
        _text = text;
        HasPlaceholder = text.Contains(Placeholder, StringComparison.Ordinal);
    }

    public bool HasPlaceholder { get; }

    public string Render(long sequence) =>
        HasPlaceholder ? _text.Replace(Placeholder, sequence.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal) : _text;
}

/// <summary>A <c>--property key=value</c>: integers and booleans keep their type, anything else is a string.</summary>
internal sealed class PropertyTemplate
{
    private PropertyTemplate(string key, MessageTemplate value)
    {
        Key = key;
        Value = value;
    }

    public string Key { get; }

    public MessageTemplate Value { get; }

    /// <summary>Parses <c>key=value</c>; throws <see cref="FormatException"/> otherwise (the parser checks first with <see cref="TryParse"/>).</summary>
    public static PropertyTemplate Parse(string raw) =>
        TryParse(raw, out var template) ? template : throw new FormatException($"--property '{raw}' must look like key=value");

    /// <summary>Parses <c>key=value</c> (a non-empty key).</summary>
    public static bool TryParse(string raw, [NotNullWhen(true)] out PropertyTemplate? template)
    {
        var eq = raw.IndexOf('=', StringComparison.Ordinal);
        template = eq > 0 ? new PropertyTemplate(raw[..eq], new MessageTemplate(raw[(eq + 1)..])) : null;
        return template is not null;
    }

    /// <summary>The typed value for message <paramref name="sequence"/>.</summary>
    public object Render(long sequence) => Typed(Value.Render(sequence));

    public static object Typed(string text)
    {
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return l is >= int.MinValue and <= int.MaxValue ? (object)(int)l : l;
        }

        if (bool.TryParse(text, out var b))
        {
            return b;
        }

        return text;
    }
}
