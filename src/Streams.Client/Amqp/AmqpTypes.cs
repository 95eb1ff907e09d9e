using System.Globalization;

namespace Streams.Client;

/// <summary>An AMQP 1.0 <c>symbol</c>: an ASCII string used for keys of annotations and well-known names.</summary>
public readonly struct AmqpSymbol : IEquatable<AmqpSymbol>
{
    private readonly string? _value;

    /// <summary>Creates a symbol.</summary>
    /// <param name="value">The symbol's text; must be ASCII to be encodable.</param>
    public AmqpSymbol(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _value = value;
    }

    /// <summary>The symbol's text (empty for the default value).</summary>
    public string Value => _value ?? string.Empty;

    /// <summary>Converts a string to a symbol.</summary>
    /// <param name="value">The symbol's text.</param>
    public static implicit operator AmqpSymbol(string value) => new(value);

    /// <summary>Converts a string to a symbol.</summary>
    /// <param name="value">The symbol's text.</param>
    /// <returns>The symbol.</returns>
    public static AmqpSymbol FromString(string value) => new(value);

    /// <summary>Compares two symbols by text.</summary>
    /// <param name="left">The first symbol.</param>
    /// <param name="right">The second symbol.</param>
    public static bool operator ==(AmqpSymbol left, AmqpSymbol right) => left.Equals(right);

    /// <summary>Compares two symbols by text.</summary>
    /// <param name="left">The first symbol.</param>
    /// <param name="right">The second symbol.</param>
    public static bool operator !=(AmqpSymbol left, AmqpSymbol right) => !left.Equals(right);

    /// <inheritdoc />
    public bool Equals(AmqpSymbol other) => string.Equals(Value, other.Value, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is AmqpSymbol other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Value);

    /// <inheritdoc />
    public override string ToString() => Value;
}

/// <summary>An AMQP 1.0 described value: a descriptor (usually a <see cref="ulong"/> or an <see cref="AmqpSymbol"/>) and a value.</summary>
/// <remarks>Equality compares descriptor and value with <see cref="object.Equals(object?, object?)"/>, so lists and maps compare by reference.</remarks>
public sealed class AmqpDescribed : IEquatable<AmqpDescribed>
{
    /// <summary>Creates a described value.</summary>
    /// <param name="descriptor">The descriptor, usually a <see cref="ulong"/> code or an <see cref="AmqpSymbol"/>.</param>
    /// <param name="value">The described value.</param>
    public AmqpDescribed(object descriptor, object? value)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        Descriptor = descriptor;
        Value = value;
    }

    /// <summary>The descriptor.</summary>
    public object Descriptor { get; }

    /// <summary>The described value.</summary>
    public object? Value { get; }

    /// <inheritdoc />
    public bool Equals(AmqpDescribed? other) =>
        other is not null && Equals(Descriptor, other.Descriptor) && Equals(Value, other.Value);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as AmqpDescribed);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Descriptor, Value);

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Descriptor}:{Value}");
}

/// <summary>An AMQP 1.0 <c>decimal32</c> (IEEE 754 decimal32, BID or DPD) kept as its raw 32 bits.</summary>
/// <param name="Bits">The raw bits, as read big-endian from the wire.</param>
public readonly record struct AmqpDecimal32(uint Bits);

/// <summary>An AMQP 1.0 <c>decimal64</c> (IEEE 754 decimal64) kept as its raw 64 bits.</summary>
/// <param name="Bits">The raw bits, as read big-endian from the wire.</param>
public readonly record struct AmqpDecimal64(ulong Bits);

/// <summary>An AMQP 1.0 <c>decimal128</c> (IEEE 754 decimal128) kept as its raw 128 bits.</summary>
/// <param name="High">The most significant 64 bits (the first 8 bytes on the wire).</param>
/// <param name="Low">The least significant 64 bits (the last 8 bytes on the wire).</param>
public readonly record struct AmqpDecimal128(ulong High, ulong Low);

/// <summary>
/// An AMQP 1.0 <c>array</c>: a sequence of values that share one type. Elements must all be of the same .NET type
/// (<see cref="bool"/>, <see cref="byte"/>, <see cref="int"/>, <see cref="string"/>, <see cref="AmqpSymbol"/>,
/// a list, a map, another <see cref="AmqpArray"/>, ...). An empty array is encoded with the null element constructor.
/// Decoded AMQP arrays are always <see cref="AmqpArray"/>; a .NET array such as <c>int[]</c> given as a value is
/// encoded as an AMQP list, not an array.
/// </summary>
/// <remarks>Equality compares elements with <see cref="object.Equals(object?, object?)"/>.</remarks>
public sealed class AmqpArray : IEquatable<AmqpArray>
{
    /// <summary>Creates an array.</summary>
    /// <param name="items">The elements; all of the same .NET type.</param>
    /// <param name="descriptor">An optional descriptor shared by every element (a described array), or null.</param>
    public AmqpArray(IReadOnlyList<object?> items, object? descriptor = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        Items = items;
        Descriptor = descriptor;
    }

    /// <summary>The elements.</summary>
    public IReadOnlyList<object?> Items { get; }

    /// <summary>The descriptor shared by every element, or null when the elements are not described.</summary>
    public object? Descriptor { get; }

    /// <summary>The number of elements.</summary>
    public int Count => Items.Count;

    /// <inheritdoc />
    public bool Equals(AmqpArray? other)
    {
        if (other is null || other.Count != Count || !Equals(Descriptor, other.Descriptor))
        {
            return false;
        }

        for (var i = 0; i < Count; i++)
        {
            if (!Equals(Items[i], other.Items[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as AmqpArray);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Count, Descriptor);
}
