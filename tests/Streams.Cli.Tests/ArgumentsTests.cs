using Streams.Cli;
using Streams.Cli.Commands;
using Streams.Client;

namespace Streams.Cli.Tests;

public sealed class ArgumentsTests
{
    private static readonly string[] Values = ["stream", "count", "property"];
    private static readonly string[] Flags = ["amqp"];

    [Fact]
    public void Parses_values_flags_inline_values_and_repeated_options()
    {
        var args = Arguments.Parse(["--stream", "s", "--count=5", "--amqp", "--property", "a=1", "--property", "b=x"], Values, Flags);
        Assert.Equal("s", args.Value("stream"));
        Assert.Equal(5, args.Int64("count", 1));
        Assert.True(args.Flag("amqp"));
        Assert.Equal(["a=1", "b=x"], args.Values("property"));
    }

    [Theory]
    [InlineData(new[] { "--nope", "1" }, "unknown option --nope")]
    [InlineData(new[] { "--stream" }, "option --stream needs a value")]
    [InlineData(new[] { "--amqp=yes" }, "option --amqp takes no value")]
    public void Rejects_bad_options_with_a_usage_error(string[] input, string message)
    {
        var ex = Assert.Throws<UsageException>(() => Arguments.Parse(input, Values, Flags));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("1.5")]
    public void Count_must_be_a_positive_whole_number(string count)
    {
        var args = Arguments.Parse(["--count", count], Values, Flags);
        Assert.Throws<UsageException>(() => args.Int64("count", 1, min: 1));
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
        Assert.Throws<UsageException>(() => PropertyTemplate.Parse("novalue"));
    }

    [Theory]
    [InlineData("first", OffsetType.First)]
    [InlineData("last", OffsetType.Last)]
    [InlineData("next", OffsetType.Next)]
    [InlineData("42", OffsetType.Offset)]
    [InlineData("2026-01-02T03:04:05Z", OffsetType.Timestamp)]
    public void From_accepts_every_offset_kind(string from, OffsetType type) =>
        Assert.Equal(type, TailCommand.ParseFrom(from).Type);

    [Fact]
    public void Redacts_the_password_of_a_uri() =>
        Assert.Equal("rabbitmq-stream://u:***@h:5552/v", Connection.Redact("rabbitmq-stream://u:secret@h:5552/v"));
}
