using Microsoft.Extensions.Logging;
using Streams.Client;

namespace Streams.Cli.Commands;

/// <summary>The <c>--uri</c> option shared by every command.</summary>
internal static class Connection
{
    public const string UriOption = "uri";
    public const string DefaultUri = "rabbitmq-stream://guest:guest@localhost:5552/%2f";

    /// <summary>
    /// The client's warnings and errors (connection lost, protocol violations, each recovery attempt that failed) on
    /// standard error, so a command never sits silent while the client struggles.
    /// </summary>
    public static ILoggerFactory Logging { get; } = LoggerFactory.Create(builder => builder
        .SetMinimumLevel(LogLevel.Warning)
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
        .AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        }));

    public static StreamSystemOptions Options(Arguments arguments)
    {
        var uri = arguments.Value(UriOption) ?? DefaultUri;
        try
        {
            var options = StreamSystemOptions.FromUri(uri);
            options.ConnectionName ??= "streams-cli";
            options.LoggerFactory = Logging;
            return options;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or UriFormatException)
        {
            throw new UsageException($"--uri '{Redact(uri)}' is not a valid rabbitmq-stream URI: {ex.Message}");
        }
    }

    public static Task<StreamSystem> ConnectAsync(Arguments arguments, CancellationToken cancellationToken) =>
        StreamSystem.ConnectAsync(Options(arguments), cancellationToken);

    /// <summary>The URI with its password hidden, for messages.</summary>
    public static string Redact(string uri)
    {
        var at = uri.IndexOf('@', StringComparison.Ordinal);
        var scheme = uri.IndexOf("://", StringComparison.Ordinal);
        if (at < 0 || scheme < 0)
        {
            return uri;
        }

        var colon = uri.IndexOf(':', scheme + 3);
        return colon > 0 && colon < at ? string.Concat(uri.AsSpan(0, colon + 1), "***", uri.AsSpan(at)) : uri;
    }
}
