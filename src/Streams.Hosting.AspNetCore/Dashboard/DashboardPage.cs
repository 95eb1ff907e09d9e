using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

namespace Streams.Hosting.AspNetCore.Dashboard;

/// <summary>
/// Renders the dashboard page on the server (readable without JavaScript): the template with the consumers, producers
/// and connection of the current <see cref="RabbitStreamsStatus"/>. dashboard.js renders the same rows when it polls.
/// </summary>
internal static class DashboardPage
{
    private const int SparkWidth = 120;
    private const int SparkHeight = 24;

    public static string Render(RabbitStreamsStatus status, string basePath, TimeSpan refresh, DateTimeOffset now)
    {
        var html = HtmlEncoder.Default;
        return DashboardAssets.PageTemplate
            .Replace("{{assets}}", html.Encode(basePath + "/assets"), StringComparison.Ordinal)
            .Replace("{{api}}", html.Encode(basePath + "/api"), StringComparison.Ordinal)
            .Replace("{{refresh}}", ((long)refresh.TotalMilliseconds).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{{now}}", html.Encode(now.ToString("O", CultureInfo.InvariantCulture)), StringComparison.Ordinal)
            .Replace("{{connectionClass}}", ConnectionClass(status.Connection), StringComparison.Ordinal)
            .Replace("{{connection}}", html.Encode(ConnectionText(status.Connection)), StringComparison.Ordinal)
            .Replace("{{publishingClass}}", status.Publishing?.FailingSince is null ? "ok" : "bad", StringComparison.Ordinal)
            .Replace("{{publishing}}", html.Encode(PublishingText(status.Publishing)), StringComparison.Ordinal)
            .Replace("{{consumers}}", Consumers(status.Consumers), StringComparison.Ordinal)
            .Replace("{{producers}}", Producers(status.Producers), StringComparison.Ordinal);
    }

    private static string ConnectionClass(StreamConnectionStatus? connection) => connection?.Phase switch
    {
        "Connected" => "ok",
        "Connecting" => "warn",
        null => "warn",
        _ => "bad",
    };

    private static string ConnectionText(StreamConnectionStatus? connection) => connection is null
        ? "Connection: unknown"
        : $"Connection: {connection.Phase} ({connection.Endpoints}){(connection.Phase != "Connected" && connection.LastError is { } e ? ": " + e : string.Empty)}";

    private static string PublishingText(StreamPublishingStatus? publishing) => publishing?.FailingSince is { } since
        ? $"Publishing failing since {since.ToString("O", CultureInfo.InvariantCulture)}: {publishing.LastError}"
        : "Publishing: ok";

    private static string Consumers(IReadOnlyList<RabbitStreamsConsumerStatus> consumers)
    {
        if (consumers.Count == 0)
        {
            return "<tr class=\"none\"><td colspan=\"12\">No hosted consumers.</td></tr>\n";
        }

        var html = HtmlEncoder.Default;
        var sb = new StringBuilder();
        foreach (var c in consumers)
        {
            sb.Append("<tr data-key=\"").Append(html.Encode(Key(c))).Append('"');
            if (c.Name is not null)
            {
                sb.Append(" data-consumer=\"").Append(html.Encode(c.Name)).Append('"');
            }

            sb.Append('>')
                .Append("<td class=\"c-name\">").Append(html.Encode(c.Name ?? "(anonymous)")).Append("</td>")
                .Append("<td class=\"c-stream\">").Append(html.Encode(c.Stream)).Append("</td>")
                .Append("<td class=\"c-partition\">").Append(html.Encode(c.Partition ?? string.Empty)).Append("</td>")
                .Append("<td class=\"c-state\"><span class=\"state state-").Append(html.Encode(c.State)).Append("\">").Append(html.Encode(c.State)).Append("</span>")
                .Append(html.Encode(Reason(c))).Append("</td>")
                .Append("<td class=\"c-processed num\">").Append(Number(c.LastProcessedOffset)).Append("</td>")
                .Append("<td class=\"c-stored num\">").Append(Number(c.LastStoredOffset)).Append("</td>")
                .Append("<td class=\"c-lag num\">").Append(Number(c.Lag)).Append("</td>")
                .Append("<td class=\"c-spark\">").Append(Sparkline(c.LagHistory)).Append("</td>")
                .Append("<td class=\"c-rate num\">").Append(c.Rate is { } rate ? rate.ToString("0.#", CultureInfo.InvariantCulture) + "/s" : string.Empty).Append("</td>")
                .Append("<td class=\"c-handled num\">").Append(c.Handled.ToString(CultureInfo.InvariantCulture)).Append("</td>")
                .Append("<td class=\"c-failed num\">").Append(c.Failed.ToString(CultureInfo.InvariantCulture)).Append("</td>")
                .Append("<td class=\"c-actions\">");
            if (c.Name is not null)
            {
                sb.Append("<button type=\"button\" class=\"pause\" data-action=\"pause\">Pause</button> ")
                    .Append("<button type=\"button\" class=\"resume\" data-action=\"resume\">Resume</button> ")
                    .Append("<input class=\"rewind-to\" aria-label=\"Rewind target\" placeholder=\"first | last | offset:N | timestamp:ISO\"> ")
                    .Append("<button type=\"button\" class=\"rewind\" data-action=\"rewind\">Rewind</button>");
            }

            sb.Append("</td></tr>\n");
        }

        return sb.ToString();
    }

    private static string Producers(IReadOnlyList<StreamProducerStatus> producers)
    {
        if (producers.Count == 0)
        {
            return "<tr class=\"none\"><td colspan=\"8\">No producer yet (created on the first publish).</td></tr>\n";
        }

        var html = HtmlEncoder.Default;
        var sb = new StringBuilder();
        foreach (var p in producers)
        {
            sb.Append("<tr data-key=\"").Append(html.Encode(p.Stream + "|" + p.Reference)).Append("\">")
                .Append("<td class=\"p-stream\">").Append(html.Encode(p.Stream)).Append("</td>")
                .Append("<td class=\"p-reference\">").Append(html.Encode(p.Reference ?? string.Empty)).Append("</td>")
                .Append("<td class=\"p-open ").Append(p.IsOpen ? "ok" : "bad").Append("\">").Append(p.IsOpen ? "yes" : "no").Append("</td>")
                .Append("<td class=\"p-inflight num\">").Append(p.Unconfirmed.ToString(CultureInfo.InvariantCulture)).Append("</td>")
                .Append("<td class=\"p-confirmed num\">").Append(p.Confirmed.ToString(CultureInfo.InvariantCulture)).Append("</td>")
                .Append("<td class=\"p-latency num\">").Append(Milliseconds(p.LastConfirmLatency)).Append(" / ").Append(Milliseconds(p.AverageConfirmLatency)).Append("</td>")
                .Append("<td class=\"p-failed num\">").Append(p.Failed.ToString(CultureInfo.InvariantCulture)).Append("</td>")
                .Append("<td class=\"p-error\">").Append(html.Encode(p.LastError ?? string.Empty)).Append("</td>")
                .Append("</tr>\n");
        }

        return sb.ToString();
    }

    /// <summary>The row identity dashboard.js matches rows by (the same fields, in the same order).</summary>
    private static string Key(RabbitStreamsConsumerStatus c) => string.Join('|', c.Handler, c.Stream, c.Partition, c.Name);

    private static string Reason(RabbitStreamsConsumerStatus c) =>
        (c.StateReason is { } reason && !string.Equals(reason, c.State, StringComparison.OrdinalIgnoreCase) ? $" ({reason})" : string.Empty)
        + (c.IsActive ? string.Empty : " standby");

    private static string Number(ulong? value) => value?.ToString(CultureInfo.InvariantCulture) ?? string.Empty;

    private static string Number(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? string.Empty;

    private static string Milliseconds(TimeSpan? value) =>
        value is { } v ? v.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture) + " ms" : "-";

    /// <summary>An inline SVG polyline of the lag history, scaled to its maximum (dashboard.js draws the same).</summary>
    internal static string Sparkline(IReadOnlyList<StreamLagSample> history)
    {
        var sb = new StringBuilder();
        sb.Append("<svg class=\"spark\" width=\"").Append(SparkWidth).Append("\" height=\"").Append(SparkHeight)
            .Append("\" viewBox=\"0 0 ").Append(SparkWidth).Append(' ').Append(SparkHeight).Append("\" role=\"img\" aria-label=\"lag history")
            .Append(history.Count == 0 ? ": no measurement yet" : ": " + string.Join(' ', history.Select(s => s.Lag.ToString(CultureInfo.InvariantCulture))))
            .Append("\"><line x1=\"0\" y1=\"").Append(SparkHeight - 1).Append("\" x2=\"").Append(SparkWidth).Append("\" y2=\"").Append(SparkHeight - 1).Append("\"/>");
        if (history.Count > 0)
        {
            var max = Math.Max(1, history.Max(s => s.Lag));
            var step = history.Count == 1 ? 0 : (double)SparkWidth / (history.Count - 1);
            sb.Append("<polyline points=\"");
            for (var i = 0; i < history.Count; i++)
            {
                var x = history.Count == 1 ? SparkWidth : i * step;
                var y = (SparkHeight - 1) - ((double)history[i].Lag / max * (SparkHeight - 2));
                sb.Append(x.ToString("0.#", CultureInfo.InvariantCulture)).Append(',').Append(y.ToString("0.#", CultureInfo.InvariantCulture)).Append(' ');
            }

            sb.Append("\"/>");
        }

        return sb.Append("</svg>").ToString();
    }
}
