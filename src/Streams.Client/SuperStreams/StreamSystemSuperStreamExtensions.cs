namespace Streams.Client;

/// <summary>Creates super-stream producers and consumers from a <see cref="StreamSystem"/>.</summary>
public static class StreamSystemSuperStreamExtensions
{
    /// <summary>
    /// Creates a producer publishing to the partitions of a super stream. Partition producers are created on first use.
    /// </summary>
    /// <param name="system">The stream system.</param>
    /// <param name="options">The settings (validated).</param>
    /// <param name="cancellationToken">Cancels reading the partitions.</param>
    /// <exception cref="StreamDoesNotExistException">The super stream does not exist.</exception>
    public static Task<SuperStreamProducer> CreateSuperStreamProducerAsync(this StreamSystem system, SuperStreamProducerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return SuperStreamProducer.CreateAsync(system, options, cancellationToken);
    }

    /// <summary>Creates a consumer of every partition of a super stream (one <see cref="Consumer"/> per partition).</summary>
    /// <param name="system">The stream system.</param>
    /// <param name="options">The settings (validated).</param>
    /// <param name="cancellationToken">Cancels reading the partitions and subscribing.</param>
    /// <exception cref="StreamDoesNotExistException">The super stream does not exist.</exception>
    public static Task<SuperStreamConsumer> CreateSuperStreamConsumerAsync(this StreamSystem system, SuperStreamConsumerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return SuperStreamConsumer.CreateAsync(system, options, cancellationToken);
    }
}
