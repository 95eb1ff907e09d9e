namespace Streams.Client;

/// <summary>
/// The filter convention of this client, its hosting layer and its CLI. A filtered message carries its filter value
/// twice: as the broker's filter value (Publish v2, RabbitMQ 3.13+: <see cref="ProducerOptions.FilterValue"/>),
/// which the broker indexes in each chunk's Bloom filter, and as the application property <see cref="PropertyName"/>
/// holding the same string. The broker filters whole chunks and probabilistically: a chunk it sends for
/// <see cref="ConsumerOptions.FilterValues"/> may also hold messages with other values or none (false positives and
/// mixed chunks), so a consumer re-checks each message's property on the client (<see cref="CreatePostFilter"/>).
/// </summary>
/// <remarks>
/// Producing: set the property (<see cref="SetValue"/>) and give the producer <see cref="ProducerFilterValue"/>.
/// Consuming: set <see cref="ConsumerOptions.FilterValues"/> and <see cref="ConsumerOptions.MatchUnfiltered"/>, and
/// <see cref="ConsumerOptions.PostFilter"/> to <see cref="CreatePostFilter"/> with the same values. A message without
/// the property (as a string), a body alone and an entry that is not AMQP 1.0 are <em>unfiltered</em>: kept only with
/// matchUnfiltered. Comparison is ordinal, as the broker's.
/// </remarks>
public static class StreamFilter
{
    /// <summary>The application property carrying a message's filter value: <c>x-stream-filter-value</c>.</summary>
    public const string PropertyName = "x-stream-filter-value";

    /// <summary>
    /// For <see cref="ProducerOptions.FilterValue"/> (and <see cref="SuperStreamProducerOptions.FilterValue"/>): sends
    /// each message's <see cref="PropertyName"/> property as its broker filter value (<see cref="GetValue"/>).
    /// </summary>
    public static Func<Message, string?> ProducerFilterValue { get; } = GetValue;

    /// <summary>The filter value of <paramref name="message"/>: its <see cref="PropertyName"/> application property when that is a string; null otherwise (unfiltered).</summary>
    /// <param name="message">The message.</param>
    /// <exception cref="ArgumentNullException"><paramref name="message"/> is null.</exception>
    public static string? GetValue(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.ApplicationProperties is { } properties && properties.TryGetValue(PropertyName, out var value) ? value as string : null;
    }

    /// <summary>Writes <paramref name="value"/> as the <see cref="PropertyName"/> application property of <paramref name="message"/> (creating its application properties when it has none).</summary>
    /// <param name="message">The message.</param>
    /// <param name="value">The filter value; not empty (the broker matches no empty value).</param>
    /// <exception cref="ArgumentNullException"><paramref name="message"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="value"/> is empty.</exception>
    public static void SetValue(Message message, string value)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentException.ThrowIfNullOrEmpty(value);
        (message.ApplicationProperties ??= new Dictionary<string, object?>(1, StringComparer.Ordinal))[PropertyName] = value;
    }

    /// <summary>
    /// Whether <paramref name="message"/> passes the client-side check: its filter value (<see cref="GetValue"/>) is
    /// one of <paramref name="values"/>, or it has none and <paramref name="matchUnfiltered"/> is true.
    /// </summary>
    /// <param name="message">The decoded message.</param>
    /// <param name="values">The wanted filter values (<see cref="ConsumerOptions.FilterValues"/>), compared with the collection's own <c>Contains</c>.</param>
    /// <param name="matchUnfiltered">Whether a message without a filter value passes (<see cref="ConsumerOptions.MatchUnfiltered"/>).</param>
    /// <exception cref="ArgumentNullException"><paramref name="message"/> or <paramref name="values"/> is null.</exception>
    public static bool Matches(Message message, IReadOnlyCollection<string> values, bool matchUnfiltered)
    {
        ArgumentNullException.ThrowIfNull(values);
        return GetValue(message) is { } value ? values.Contains(value) : matchUnfiltered;
    }

    /// <summary>
    /// A <see cref="ConsumerOptions.PostFilter"/> for <paramref name="values"/>: a delivery passes when its entry's
    /// filter value is one of them, or it has none and <paramref name="matchUnfiltered"/> is true. The entry is read in
    /// place: a body alone (one data section) and an entry that is not AMQP 1.0 (<see cref="Message.DetectFormat"/>)
    /// have no filter value and are not decoded; other entries are decoded to read their application properties. An
    /// entry that starts like AMQP 1.0 but does not decode passes, so that the application sees it (<see cref="Delivery.TryDecodeMessage"/>)
    /// rather than losing it unnoticed.
    /// </summary>
    /// <param name="values">The wanted filter values (copied; use the same as <see cref="ConsumerOptions.FilterValues"/>).</param>
    /// <param name="matchUnfiltered">Whether entries without a filter value pass (use the same as <see cref="ConsumerOptions.MatchUnfiltered"/>).</param>
    /// <returns>The predicate; it keeps nothing of the deliveries it sees.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="values"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="values"/> is empty or holds a null or empty value.</exception>
    public static Func<Delivery, bool> CreatePostFilter(IEnumerable<string> values, bool matchUnfiltered)
    {
        ArgumentNullException.ThrowIfNull(values);
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            if (string.IsNullOrEmpty(value))
            {
                throw new ArgumentException("Filter values must not be null or empty.", nameof(values));
            }

            wanted.Add(value);
        }

        if (wanted.Count == 0)
        {
            throw new ArgumentException("A post-filter needs at least one filter value.", nameof(values));
        }

        return delivery => MatchesEntry(delivery.Body, wanted, matchUnfiltered);
    }

    /// <summary>The post-filter's rule on the stored entry bytes (see <see cref="CreatePostFilter"/>).</summary>
    private static bool MatchesEntry(ReadOnlyMemory<byte> entry, HashSet<string> wanted, bool matchUnfiltered)
    {
        var span = entry.Span;
        if (Message.TryGetBareBody(span, out _, out _) || !Message.LooksLikeAmqp(span))
        {
            return matchUnfiltered;
        }

        Message message;
        try
        {
            message = Message.Decode(entry);
        }
        catch (AmqpDecodeException)
        {
            return true;
        }

        return GetValue(message) is { } value ? wanted.Contains(value) : matchUnfiltered;
    }
}
