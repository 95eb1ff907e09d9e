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

    public static PropertyTemplate Parse(string raw)
    {
        var eq = raw.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            throw new UsageException($"--property '{raw}' must look like key=value");
        }

        return new PropertyTemplate(raw[..eq], new MessageTemplate(raw[(eq + 1)..]));
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
