namespace Streams.Hosting.Tests.Control;

public sealed class StreamRewindTargetTests
{
    [Theory]
    [InlineData("first", StreamRewindKind.First)]
    [InlineData(" FIRST ", StreamRewindKind.First)]
    [InlineData("last", StreamRewindKind.Last)]
    [InlineData("Last", StreamRewindKind.Last)]
    public void Parse_reads_first_and_last(string text, StreamRewindKind kind)
    {
        var target = StreamRewindTarget.Parse(text);
        Assert.Equal(kind, target.Kind);
        Assert.Null(target.OffsetValue);
        Assert.Null(target.TimestampValue);
    }

    [Theory]
    [InlineData("offset:123", 123UL)]
    [InlineData("OFFSET: 7", 7UL)]
    [InlineData("123", 123UL)]
    [InlineData("0", 0UL)]
    [InlineData("18446744073709551615", ulong.MaxValue)]
    public void Parse_reads_offsets(string text, ulong offset)
    {
        var target = StreamRewindTarget.Parse(text);
        Assert.Equal(StreamRewindTarget.Offset(offset), target);
        Assert.Equal(offset, target.OffsetValue);
    }

    [Fact]
    public void Parse_reads_timestamps_as_utc_unless_they_carry_an_offset()
    {
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero), StreamRewindTarget.Parse("timestamp:2026-12-01T10:00:00Z").TimestampValue);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero), StreamRewindTarget.Parse("timestamp:2026-12-01T10:00:00").TimestampValue);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.FromHours(2)), StreamRewindTarget.Parse("Timestamp:2026-12-01T10:00:00+02:00").TimestampValue);
        Assert.Equal(StreamRewindKind.Timestamp, StreamRewindTarget.Parse("timestamp:2026-12-01T10:00:00.123Z").Kind);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("firstt")]
    [InlineData("offset:")]
    [InlineData("offset:-1")]
    [InlineData("-5")]
    [InlineData("offset:12x")]
    [InlineData("18446744073709551616")]
    [InlineData("timestamp:")]
    [InlineData("timestamp:yesterday")]
    [InlineData("2026-12-01T10:00:00Z")]
    public void Parse_rejects_anything_else_naming_the_input(string text)
    {
        var error = Assert.Throws<FormatException>(() => StreamRewindTarget.Parse(text));
        Assert.Contains($"'{text}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("offset:", error.Message, StringComparison.Ordinal);
        Assert.False(StreamRewindTarget.TryParse(text, out var target));
        Assert.Null(target);
    }

    [Fact]
    public void Parse_of_null_throws_ArgumentNullException() =>
        Assert.Throws<ArgumentNullException>(() => StreamRewindTarget.Parse(null!));

    [Fact]
    public void ToString_round_trips_through_Parse()
    {
        StreamRewindTarget[] targets =
        [
            StreamRewindTarget.First,
            StreamRewindTarget.Last,
            StreamRewindTarget.Offset(42),
            StreamRewindTarget.Timestamp(new DateTimeOffset(2026, 12, 1, 10, 0, 0, 123, TimeSpan.FromHours(-5))),
        ];
        foreach (var target in targets)
        {
            Assert.Equal(target, StreamRewindTarget.Parse(target.ToString()));
        }

        Assert.Equal("offset:42", StreamRewindTarget.Offset(42).ToString());
        Assert.Equal("first", StreamRewindTarget.First.ToString());
    }
}
