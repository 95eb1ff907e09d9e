namespace Streams.Hosting.AspNetCore;

/// <summary>Builds the status documents of the endpoints and the dashboard from the monitor and the diagnostics.</summary>
public static class RabbitStreamsStatusBuilder
{
    /// <summary>The longest span of lag history <see cref="RabbitStreamsConsumerStatus.Rate"/> is computed over.</summary>
    public static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(1);

    /// <summary>Builds the status document.</summary>
    /// <param name="monitor">The consumer monitor.</param>
    /// <param name="diagnostics">The diagnostics.</param>
    /// <returns>The status.</returns>
    public static RabbitStreamsStatus Build(IStreamConsumerMonitor monitor, IRabbitStreamsDiagnostics diagnostics)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        ArgumentNullException.ThrowIfNull(diagnostics);
        var consumers = monitor.GetConsumers().Select(c => Consumer(c, diagnostics.GetConsumer(c))).ToArray();
        return new RabbitStreamsStatus(consumers, diagnostics.GetProducers())
        {
            Connection = diagnostics.GetConnection(),
            Publishing = diagnostics.GetPublishing(),
        };
    }

    /// <summary>The consumers named <paramref name="name"/>, or null when none is.</summary>
    /// <param name="monitor">The consumer monitor.</param>
    /// <param name="diagnostics">The diagnostics.</param>
    /// <param name="name">The consumer name.</param>
    /// <returns>The detail, or null.</returns>
    public static RabbitStreamsConsumerDetail? BuildDetail(IStreamConsumerMonitor monitor, IRabbitStreamsDiagnostics diagnostics, string name)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        ArgumentNullException.ThrowIfNull(diagnostics);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var consumers = monitor.GetConsumers()
            .Where(c => string.Equals(c.Name, name, StringComparison.Ordinal))
            .Select(c => Consumer(c, diagnostics.GetConsumer(c)))
            .ToArray();
        return consumers.Length == 0 ? null : new RabbitStreamsConsumerDetail(name, consumers);
    }

    /// <summary>The names of the hosted consumers that have one (for the not-found answer).</summary>
    /// <param name="monitor">The consumer monitor.</param>
    /// <returns>The distinct names.</returns>
    public static IReadOnlyCollection<string> KnownNames(IStreamConsumerMonitor monitor)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        return monitor.GetConsumers().Select(c => c.Name).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
    }

    private static RabbitStreamsConsumerStatus Consumer(StreamConsumerStatus c, StreamConsumerDiagnostics? d) =>
        new(
            c.HandlerType.FullName ?? c.HandlerType.Name,
            c.Stream,
            c.Partition,
            c.Name,
            c.State.ToString(),
            d?.StateSince,
            c.IsActive,
            c.LastProcessedOffset,
            c.LastStoredOffset,
            d?.Lag,
            d?.LagMeasuredAt,
            c.HandledCount,
            c.FailedCount,
            d?.Recoveries,
            c.LastError?.Message)
        {
            StateReason = c.StateReason,
            LagHistory = d?.LagHistory ?? [],
            Rate = d is null ? null : Rate(d.LagHistory),
        };

    /// <summary>Messages consumed per second between the last sample and the oldest one within <see cref="RateWindow"/>.</summary>
    internal static double? Rate(IReadOnlyList<StreamLagSample> history)
    {
        if (history.Count < 2)
        {
            return null;
        }

        var last = history[^1];
        var first = history[^2];
        for (var i = history.Count - 2; i >= 0 && last.At - history[i].At <= RateWindow; i--)
        {
            first = history[i];
        }

        var seconds = (last.At - first.At).TotalSeconds;
        return seconds <= 0 ? null : Math.Max(0, last.Consumed - first.Consumed) / seconds;
    }
}
