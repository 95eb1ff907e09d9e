using System.CommandLine;
using Microsoft.Extensions.Logging;
using Streams.Client;
using Streams.Client.Compression;

namespace Streams.Cli.Cli;

/// <summary>The <c>--uri</c> option, given to every command, and the connection it opens.</summary>
internal static class Connection
{
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

    /// <summary>The <c>--uri</c> option (recursive: every command takes it), checked while parsing.</summary>
    public static Option<string> CreateUriOption()
    {
        var option = new Option<string>("--uri")
        {
            Description = "The broker: rabbitmq-stream://user:pass@host:port/vhost (rabbitmq-stream+tls:// for TLS).",
            HelpName = "URI",
            Recursive = true,
            DefaultValueFactory = _ => DefaultUri,
        };
        option.Validators.Add(result =>
        {
            var uri = result.GetValueOrDefault<string>();
            try
            {
                StreamSystemOptions.FromUri(uri);
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or UriFormatException)
            {
                result.AddError($"option --uri: '{Redact(uri)}' is not a valid rabbitmq-stream URI: {ex.Message}");
            }
        });
        return option;
    }

    /// <summary>The client options for <paramref name="uri"/> (already validated by the parser).</summary>
    public static StreamSystemOptions Options(string uri)
    {
        var options = StreamSystemOptions.FromUri(uri);
        options.ConnectionName ??= "streams-cli";
        options.LoggerFactory = Logging;

        // Every codec other clients write sub-entry batches with (Snappy, LZ4, Zstd besides the built-in gzip): tail
        // and stats read any stream, and perf publish --compression offers them all.
        options.AddAllCompressionCodecs();
        return options;
    }

    public static Task<StreamSystem> ConnectAsync(string uri, CancellationToken cancellationToken) =>
        StreamSystem.ConnectAsync(Options(uri), cancellationToken);

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
