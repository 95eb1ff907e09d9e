namespace Streams.Hosting;

/// <summary>
/// <see cref="IStreamConsumerControl"/> was asked to steer a consumer name that no hosted consumer of this process has
/// (the message lists the known names). Anonymous consumers have no name and cannot be steered.
/// </summary>
public sealed class StreamConsumerNotFoundException : Exception
{
    /// <summary>Creates an exception.</summary>
    public StreamConsumerNotFoundException()
    {
    }

    /// <summary>Creates an exception.</summary>
    /// <param name="message">The message.</param>
    public StreamConsumerNotFoundException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public StreamConsumerNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception naming <paramref name="consumer"/> and the names that exist.</summary>
    /// <param name="consumer">The name asked for.</param>
    /// <param name="knownNames">The names of the hosted consumers.</param>
    public StreamConsumerNotFoundException(string consumer, IReadOnlyCollection<string> knownNames)
        : base($"No hosted stream consumer is named '{consumer}'. Known consumer names: " +
               (knownNames.Count == 0 ? "none" : string.Join(", ", knownNames.Select(n => $"'{n}'"))) +
               ". Anonymous consumers (without a Name) cannot be steered: give the consumer a name ([StreamConsumer(Name = ...)]) to pause, resume or rewind it.")
    {
        Consumer = consumer;
        KnownNames = knownNames;
    }

    /// <summary>The name asked for.</summary>
    public string? Consumer { get; }

    /// <summary>The names of the hosted consumers of this process.</summary>
    public IReadOnlyCollection<string> KnownNames { get; } = [];
}
