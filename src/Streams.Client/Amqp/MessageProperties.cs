namespace Streams.Client;

/// <summary>The AMQP 1.0 <c>properties</c> section: the immutable properties of the bare message.</summary>
public sealed class MessageProperties
{
    /// <summary>The message id: a <see cref="ulong"/>, <see cref="Guid"/>, <see cref="byte"/> array
    /// (or <see cref="ReadOnlyMemory{T}"/> of bytes when sending) or <see cref="string"/>; null for none.</summary>
    public object? MessageId { get; set; }

    /// <summary>The identity of the user who produced the message (AMQP binary), or null.</summary>
#pragma warning disable CA1819 // Properties should not return arrays: mirrors the AMQP binary field.
    public byte[]? UserId { get; set; }
#pragma warning restore CA1819

    /// <summary>The address of the node the message is destined for, or null.</summary>
    public string? To { get; set; }

    /// <summary>The subject, or null.</summary>
    public string? Subject { get; set; }

    /// <summary>The address of the node to send replies to, or null.</summary>
    public string? ReplyTo { get; set; }

    /// <summary>The correlation id; same kinds as <see cref="MessageId"/>; null for none.</summary>
    public object? CorrelationId { get; set; }

    /// <summary>The MIME content type (a symbol on the wire), or null.</summary>
    public string? ContentType { get; set; }

    /// <summary>The content encoding (a symbol on the wire), or null.</summary>
    public string? ContentEncoding { get; set; }

    /// <summary>The absolute expiry time (millisecond precision), or null.</summary>
    public DateTimeOffset? AbsoluteExpiryTime { get; set; }

    /// <summary>The creation time (millisecond precision), or null.</summary>
    public DateTimeOffset? CreationTime { get; set; }

    /// <summary>The group the message belongs to, or null.</summary>
    public string? GroupId { get; set; }

    /// <summary>The position of the message within its group, or null.</summary>
    public uint? GroupSequence { get; set; }

    /// <summary>The group replies should be sent to, or null.</summary>
    public string? ReplyToGroupId { get; set; }
}
