using System.CommandLine;
using Streams.Client;

namespace Streams.Cli.Cli;

/// <summary>
/// <c>--stream S</c> or <c>--super-stream SS</c>: exactly one, checked while parsing. Commands that take a target add
/// both options with <see cref="AddTo"/>.
/// </summary>
internal sealed class StreamTarget
{
    public StreamTarget(string verb)
    {
        Stream = CliOptions.Text("--stream", $"The stream to {verb}.", "NAME");
        SuperStream = CliOptions.Text("--super-stream", $"The super stream to {verb} (every partition).", "NAME");
    }

    public Option<string?> Stream { get; }

    public Option<string?> SuperStream { get; }

    /// <summary>Adds both options to <paramref name="command"/> and the rule that exactly one is given, not empty.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Stream);
        command.Options.Add(SuperStream);
        command.Validators.Add(result =>
        {
            var stream = result.Valid(Stream);
            var superStream = result.Valid(SuperStream);
            if ((stream is null) == (superStream is null))
            {
                result.AddError("give exactly one of --stream and --super-stream");
            }
            else if ((stream ?? superStream)!.Length == 0)
            {
                result.AddError($"option {(stream is null ? "--super-stream" : "--stream")}: the name must not be empty");
            }
        });
    }

    /// <summary>The name given and whether it names a super stream.</summary>
    public (string Name, bool IsSuperStream) Get(ParseResult parse)
    {
        var superStream = parse.GetValue(SuperStream);
        return superStream is null ? (parse.GetValue(Stream)!, false) : (superStream, true);
    }

    /// <summary>The streams the target names: the stream, or the partitions of the super stream in order.</summary>
    public async Task<IReadOnlyList<string>> StreamsAsync(ParseResult parse, StreamSystem system, CancellationToken cancellationToken)
    {
        var (name, isSuperStream) = Get(parse);
        return isSuperStream ? await system.QueryPartitionsAsync(name, cancellationToken).ConfigureAwait(false) : [name];
    }
}
