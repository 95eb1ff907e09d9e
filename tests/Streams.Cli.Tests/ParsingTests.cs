using System.CommandLine;
using System.Reflection;
using Microsoft.Extensions.Time.Testing;
using Streams.Cli.Cli;
using Streams.Cli.Commands;
using Streams.Cli.Perf;
using Streams.Client;

namespace Streams.Cli.Tests;

/// <summary>The command line without a broker: help, version, typed values, exit code 2, completions.</summary>
public sealed class ParsingTests
{
    /// <summary>Every command and sub-command path of the tree, e.g. "offsets store".</summary>
    public static TheoryData<string> CommandPaths()
    {
        var data = new TheoryData<string>();
        void Walk(Command command, string path)
        {
            foreach (var sub in command.Subcommands)
            {
                var subPath = path.Length == 0 ? sub.Name : $"{path} {sub.Name}";
                data.Add(subPath);
                Walk(sub, subPath);
            }
        }

        Walk(CommandRunner.CreateRoot(new CliEnvironment(TextWriter.Null, TextWriter.Null, false)), string.Empty);
        return data;
    }

    [Fact]
    public void The_tree_has_every_command_of_issue_18()
    {
        var paths = CommandPaths().Select(row => row.Data).ToHashSet(StringComparer.Ordinal);
        Assert.Subset(paths, new HashSet<string>(StringComparer.Ordinal)
        {
            "create", "delete", "publish", "tail", "stats", "sequence", "offsets", "offsets query", "offsets store",
            "offsets set", "consumers", "dlq", "dlq replay",
            "perf", "perf publish", "perf consume", "perf latency",
        });
    }

    [Theory]
    [MemberData(nameof(CommandPaths))]
    public async Task Help_for_every_command_exits_0_and_lists_each_of_its_options(string path)
    {
        var root = CommandRunner.CreateRoot(new CliEnvironment(TextWriter.Null, TextWriter.Null, false));
        var command = path.Split(' ').Aggregate((Command)root, (c, name) => c.Subcommands.Single(s => s.Name == name));
        var result = await CliRun.RunAsync([.. path.Split(' '), "--help"]);
        Assert.Equal(0, result.Code);
        Assert.Contains("Usage:", result.Output, StringComparison.Ordinal);
        Assert.Contains(command.Description!, result.Output, StringComparison.Ordinal);
        foreach (var option in command.Options)
        {
            Assert.Contains(option.Name, result.Output, StringComparison.Ordinal);
        }

        Assert.Contains("--uri", result.Output, StringComparison.Ordinal);
        Assert.Empty(result.Error);
    }

    [Fact]
    public async Task Help_wins_over_missing_or_conflicting_options()
    {
        var result = await CliRun.RunAsync("tail", "--stream", "a", "--super-stream", "b", "--help");
        Assert.Equal(0, result.Code);
        Assert.Contains("--until-end", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_prints_the_assembly_version()
    {
        var result = await CliRun.RunAsync("--version");
        Assert.Equal(0, result.Code);
        var version = typeof(CommandRunner).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(version, result.Output.Trim());
        Assert.StartsWith("0.1.0", version, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_command_shows_the_overview_on_stderr_and_exits_2()
    {
        var result = await CliRun.RunAsync();
        Assert.Equal(2, result.Code);
        Assert.Contains("Exit codes: 0 success, 1 broker or client failure, 2 bad input.", result.Error, StringComparison.Ordinal);
        // The overview lists each command once (the old usage text repeated options).
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(result.Error, @"^\s+tail\b", System.Text.RegularExpressions.RegexOptions.Multiline));
    }

    [Theory]
    [InlineData("--count abc", "--count", "'abc' is not a whole number")]
    [InlineData("--count 0", "--count", "0 is outside 1..")]
    [InlineData("--count 1.5", "--count", "'1.5' is not a whole number")]
    [InlineData("--size -1 --amqp", "--size", "-1 is outside 0..")]
    [InlineData("--partitions 1001 --super-stream ss", "--partitions", "1001 is outside 1..1000")]
    [InlineData("--property novalue --amqp", "--property", "'novalue' must look like key=value")]
    [InlineData("--uri http://nope", "--uri", "is not a valid rabbitmq-stream URI")]
    [InlineData("--nope 1", "--nope", "Unrecognized command or argument")]
    public async Task A_bad_publish_value_exits_2_with_a_message_naming_the_option(string extra, string option, string message)
    {
        string[] args = ["publish", .. extra.Split(' ')];
        if (!extra.Contains("--super-stream", StringComparison.Ordinal))
        {
            args = [.. args, "--stream", "s"];
        }

        var result = await CliRun.RunAsync(args);
        Assert.Equal(2, result.Code);
        Assert.Contains(option, result.Error, StringComparison.Ordinal);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.Contains("Run `streams publish --help` for usage.", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Output);
    }

    [Theory]
    [InlineData("publish --count 1", "give exactly one of --stream and --super-stream")]
    [InlineData("publish --stream s --super-stream t", "give exactly one of --stream and --super-stream")]
    [InlineData("publish --stream s --size 10 --body x", "options --size and --body exclude each other")]
    [InlineData("publish --stream s --message-id x", "need --amqp")]
    [InlineData("publish --stream s --routing-key k", "--routing-key only applies with --super-stream")]
    [InlineData("tail --stream s --single-active-consumer", "--single-active-consumer needs --name GROUP")]
    [InlineData("tail --stream s --super-stream ss", "give exactly one of --stream and --super-stream")]
    [InlineData("tail --stream s --from sideways", "option --from: 'sideways' is not first, last, next, an offset or an ISO-8601 time")]
    [InlineData("tail --stream s --format xml", "'xml'")]
    [InlineData("tail --stream s --match-unfiltered", "--match-unfiltered only applies with --filter")]
    [InlineData("tail --super-stream s --filter a", "--filter applies to --stream only")]
    [InlineData("tail --stream s --until-end --single-active-consumer --name g", "--until-end cannot be combined with --single-active-consumer")]
    [InlineData("create --stream s --partitions 2", "apply to --super-stream only")]
    [InlineData("create --super-stream s --partitions 2 --binding-keys a,b", "exclude each other")]
    [InlineData("create --super-stream s --binding-keys a,,b", "option --binding-keys")]
    [InlineData("create --stream s --max-age 1.5h", "option --max-age: '1.5h'")]
    [InlineData("create --stream s --max-age 0s", "option --max-age: '0s'")]
    [InlineData("create --stream s --filter-size-bytes 8", "option --filter-size-bytes: 8 is outside 16..255")]
    [InlineData("create --stream s --max-segment-size-bytes 3000000001", "option --max-segment-size-bytes")]
    [InlineData("create --stream s --leader-locator random", "'random'")]
    [InlineData("create --stream s --initial-cluster-size 0", "option --initial-cluster-size")]
    [InlineData("sequence --stream s", "--name")]
    [InlineData("offsets query --stream s", "--name")]
    [InlineData("offsets store --stream s --name n", "--offset")]
    [InlineData("offsets store --stream s --name n --offset -1", "option --offset: '-1'")]
    [InlineData("offsets", "Required command was not provided")]
    [InlineData("offsets set s --name n", "--to")]
    [InlineData("offsets set s --to first", "--name")]
    [InlineData("offsets set s --name n --to sideways", "option --to: 'sideways' is not one of first|last|offset:N|timestamp:ISO")]
    [InlineData("offsets set s --name n --to offset:-1", "option --to: 'offset:-1'")]
    [InlineData("offsets set s --name n --to timestamp:yesterday", "option --to: 'timestamp:yesterday'")]
    [InlineData("offsets set --name n --to last", "Required argument missing for command: 'set'")]
    [InlineData("offsets query --stream s --name n --lag --count-limit -1", "option --count-limit: -1 is outside 0..")]
    [InlineData("consumers s", "give the consumer names with --name")]
    [InlineData("consumers --name n", "Required argument missing for command: 'consumers'")]
    [InlineData("dlq", "Required command was not provided")]
    [InlineData("dlq replay", "Required argument missing for command: 'replay'")]
    [InlineData("dlq replay s.dlq --count 0", "option --count: 0 is outside 1..")]
    [InlineData("dlq replay s.dlq --from-offset -1", "option --from-offset: -1 is outside 0..")]
    [InlineData("dlq replay s.dlq --from-offset 5 --to-offset 4", "option --to-offset: 4 is before --from-offset 5")]
    [InlineData("dlq replay s.dlq --dry-run yes", "yes")]
    [InlineData("perf sideways", "sideways")]
    [InlineData("perf consume --sub-entry 10", "--sub-entry")]
    [InlineData("perf publish --sub-entry 10 --amqp", "--sub-entry publishes raw bodies")]
    [InlineData("perf publish --compression gzip", "--compression applies to --sub-entry or --sub-entry-size batches only")]
    [InlineData("perf publish --sub-entry 10 --sub-entry-size 10", "--sub-entry (batches made by the caller) and --sub-entry-size (made by the producer) are exclusive")]
    [InlineData("perf publish --sub-entry-size 0", "option --sub-entry-size")]
    [InlineData("perf publish --compression brotli --sub-entry 5", "'brotli'")]
    [InlineData("perf latency --size 8", "option --size: 8 is outside 9..1000000")]
    [InlineData("frobnicate", "frobnicate")]
    public async Task Bad_input_exits_2_before_connecting(string line, string message)
    {
        // The default --uri points at a port nothing listens on in this test: a parse error never gets that far.
        var result = await CliRun.RunAsync([.. line.Split(' '), "--uri", "rabbitmq-stream://guest:guest@127.0.0.1:1/%2f"]);
        Assert.Equal(2, result.Code);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_stream_name_exits_2()
    {
        var result = await CliRun.RunAsync("publish", "--stream", string.Empty);
        Assert.Equal(2, result.Code);
        Assert.Contains("option --stream: the name must not be empty", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_broker_that_is_not_there_is_a_failure_exit_1()
    {
        var result = await CliRun.RunAsync("stats", "--stream", "s", "--uri", "rabbitmq-stream://guest:guest@127.0.0.1:1/%2f");
        Assert.Equal(1, result.Code);
        Assert.StartsWith("streams: ", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tail --format ", new[] { "json", "text" })]
    [InlineData("tail --from ", new[] { "first", "last", "next" })]
    [InlineData("create --leader-locator ", new[] { "balanced", "client-local" })]
    [InlineData("perf publish --compression ", new[] { "gzip", "lz4", "none", "snappy", "zstd" })]
    [InlineData("offsets ", new[] { "query", "store", "set" })]
    [InlineData("offsets set s --name n --to ", new[] { "first", "last" })]
    [InlineData("dlq ", new[] { "replay" })]
    public void Enum_like_options_complete_their_values(string line, string[] expected)
    {
        var root = CommandRunner.CreateRoot(new CliEnvironment(TextWriter.Null, TextWriter.Null, false));
        var completions = root.Parse(line).GetCompletions(line.Length).Select(c => c.Label).ToList();
        Assert.Subset(completions.ToHashSet(StringComparer.Ordinal), expected.ToHashSet(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_suggest_directive_answers_the_shell()
    {
        var result = await CliRun.RunAsync("[suggest:14]", "tail --format ");
        Assert.Equal(0, result.Code);
        Assert.Equal(["json", "text"], result.Lines);
    }

    [Theory]
    [InlineData("first", OffsetType.First)]
    [InlineData("last", OffsetType.Last)]
    [InlineData("next", OffsetType.Next)]
    [InlineData("42", OffsetType.Offset)]
    [InlineData("2026-01-02T03:04:05Z", OffsetType.Timestamp)]
    public void From_accepts_every_offset_kind(string from, OffsetType type)
    {
        Assert.True(TailCommand.TryParseFrom(from, out var offset));
        Assert.Equal(type, offset.Type);
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("30m", 1800)]
    [InlineData("12h", 43_200)]
    [InlineData("7d", 604_800)]
    [InlineData("1.00:00:00", 86_400)]
    public void Max_age_accepts_units_and_time_spans(string raw, int seconds)
    {
        Assert.True(CreateCommand.TryParseAge(raw, out var age));
        Assert.Equal(TimeSpan.FromSeconds(seconds), age);
    }

    [Fact]
    public void Sequence_placeholder_is_replaced_and_property_values_keep_their_type()
    {
        Assert.Equal("order-7", new MessageTemplate("order-{seq}").Render(7));
        Assert.Equal(42, PropertyTemplate.Parse("n=42").Render(1));
        Assert.Equal(5_000_000_000L, PropertyTemplate.Parse("n=5000000000").Render(1));
        Assert.Equal(true, PropertyTemplate.Parse("ok=true").Render(1));
        Assert.Equal("x3", PropertyTemplate.Parse("s=x{seq}").Render(3));
        Assert.Equal(3, PropertyTemplate.Parse("s={seq}").Render(3));
        Assert.False(PropertyTemplate.TryParse("novalue", out _));
        Assert.False(PropertyTemplate.TryParse("=v", out _));
    }

    [Fact]
    public async Task Numbers_accept_digit_separators()
    {
        var root = CommandRunner.CreateRoot(new CliEnvironment(TextWriter.Null, TextWriter.Null, false));
        var parse = root.Parse(["perf", "publish", "--count", "1_000_000"]);
        Assert.Empty(parse.Errors);
        var count = parse.CommandResult.Command.Options.OfType<Option<long>>().Single(o => o.Name == "--count");
        Assert.Equal(1_000_000, parse.GetValue(count));
        await Task.CompletedTask;
    }

    [Fact]
    public void Redacts_the_password_of_a_uri() =>
        Assert.Equal("rabbitmq-stream://u:***@h:5552/v", Connection.Redact("rabbitmq-stream://u:secret@h:5552/v"));

    [Fact]
    public void The_perf_progress_line_shows_on_a_terminal_after_a_second_and_is_erased()
    {
        var time = new FakeTimeProvider();
        using var terminal = new StringWriter();
        long done = 0;
        var progress = PerfProgress.Start(new CliEnvironment(terminal, TextWriter.Null, Interactive: true), "publish", 1000, () => done, time);
        done = 100;
        time.Advance(TimeSpan.FromMilliseconds(900));
        Assert.Empty(terminal.ToString());
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal("\rpublish: 100/1,000 msgs (10%) 100 msgs/s", terminal.ToString());
        done = 500;
        time.Advance(PerfProgress.Interval);
        Assert.EndsWith("\rpublish: 500/1,000 msgs (50%) 333 msgs/s", terminal.ToString(), StringComparison.Ordinal);
        progress.Dispose();
        var width = "publish: 500/1,000 msgs (50%) 333 msgs/s".Length;
        Assert.EndsWith("\r" + new string(' ', width) + "\r", terminal.ToString(), StringComparison.Ordinal);
        var length = terminal.ToString().Length;
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(length, terminal.ToString().Length);
    }

    [Fact]
    public void The_perf_progress_line_never_shows_in_redirected_output()
    {
        var time = new FakeTimeProvider();
        using var redirected = new StringWriter();
        using (PerfProgress.Start(new CliEnvironment(redirected, TextWriter.Null, Interactive: false), "consume", 1000, () => 10, time))
        {
            time.Advance(TimeSpan.FromSeconds(10));
        }

        Assert.Empty(redirected.ToString());
    }
}
