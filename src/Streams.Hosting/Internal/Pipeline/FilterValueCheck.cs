using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Streams.Client;
using Streams.Hosting.Telemetry;

namespace Streams.Hosting.Internal.Pipeline;

/// <summary>
/// The client-side re-check of broker filtering (Bloom filters let other values through), by the client's
/// convention (<see cref="StreamFilter"/>). A message that does not match is counted and logged here (once per
/// message: every path calls this once per item); an undecodable entry always goes on, to the failure policy.
/// </summary>
internal sealed class FilterValueCheck
{
    private readonly IReadOnlyList<string>? _filters;
    private readonly bool _matchUnfiltered;
    private readonly ConsumerTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly string _handlerName;
    private readonly string _source;

    public FilterValueCheck(StreamConsumerOptions options, ConsumerTelemetry telemetry, ILogger logger, string handlerName, string source)
    {
        _filters = options.FilterValues is { Count: > 0 } filters ? filters : null;
        _matchUnfiltered = options.MatchUnfiltered;
        _telemetry = telemetry;
        _logger = logger;
        _handlerName = handlerName;
        _source = source;
    }

    /// <summary>Whether the handler gets <paramref name="item"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Matches(in DeliveryItem item)
    {
        if (_filters is not { } filters || item.Undecodable is not null)
        {
            return true;
        }

        // A body alone carries no filter value.
        if (item.Message is { } message ? StreamFilter.Matches(message, filters, _matchUnfiltered) : _matchUnfiltered)
        {
            return true;
        }

        Dropped(item, filters);
        return false;
    }

    /// <summary>Counts (<c>rabbitmq.stream.consumer.filtered</c>, <see cref="StreamConsumerStatus.FilteredCount"/>) and logs a message the filter dropped.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Dropped(in DeliveryItem item, IReadOnlyList<string> filters)
    {
        _telemetry.CountFiltered();
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            var value = item.Message is { } message ? StreamFilter.GetValue(message) : null;
            Log.MessageFiltered(_logger, _handlerName, _source, item.Offset, value, string.Join(", ", filters), _matchUnfiltered);
        }
    }
}
