using Streams.Client;

namespace Streams.Hosting.Internal.Pipeline;

/// <summary>
/// One read message on its way to the handler: decoded (<see cref="Message"/>); a body alone (<see cref="Body"/>:
/// an entry that is one data section and nothing else), whose message is built only when something asks for it
/// (<see cref="GetMessage"/>); an entry that is not AMQP at all, with both (its bytes as <see cref="Body"/> for a
/// <c>byte[]</c> handler, and the raw <see cref="Message"/> around them); or kept as the stored bytes with the
/// decoding error (<see cref="Undecodable"/>) for the failure policy.
/// </summary>
internal readonly record struct DeliveryItem(ulong Offset, ulong ChunkId, DateTimeOffset Timestamp, Message? Message, byte[]? Body, Undecodable? Undecodable)
{
    /// <summary>The decoded message, or one built around <see cref="Body"/>; null for an undecodable entry.</summary>
    public Message? GetMessage() => Message ?? (Body is { } body ? new Message(body) : null);

    /// <summary>The decoded message, or the body alone (for <see cref="StreamContext"/>, which builds the message when read).</summary>
    public object? Payload => (object?)Message ?? Body;

    /// <summary>Excluded by <see cref="StreamConsumerOptions.FilterValues"/>: processed without calling the handler.</summary>
    public bool Filtered { get; init; }
}

/// <summary>An entry that is not a valid AMQP 1.0 message: its bytes (copied) and why it could not be decoded.</summary>
internal sealed record Undecodable(byte[] Entry, Exception Error);

/// <summary>The consumer stops (its failure policy says so, or the application's setup is broken): not retried, not skipped.</summary>
internal sealed class ConsumerStoppedException(Exception inner) : Exception(inner.Message, inner);
