using System.Text;

namespace Streams.Client.Tests.Filtering;

/// <summary>
/// The filter convention (<see cref="StreamFilter"/>): the property a filter value travels in, the producer's filter
/// value taken from it, and the post-filter on stored entries (AMQP with and without the property, bodies alone,
/// raw entries, corrupt AMQP).
/// </summary>
public sealed class StreamFilterTests
{
    private static Message Tagged(string body, object? value) =>
        new(Encoding.UTF8.GetBytes(body)) { ApplicationProperties = new Dictionary<string, object?> { [StreamFilter.PropertyName] = value, ["other"] = "x" } };

    private static readonly byte[] One = [1];

    private static Delivery Entry(byte[] bytes) => new(null!, 7, 0, 1_700_000_000_000, bytes);

    [Fact]
    public void The_property_is_the_one_hosted_publishers_have_always_written()
    {
        Assert.Equal("x-stream-filter-value", StreamFilter.PropertyName);
    }

    [Fact]
    public void The_value_is_the_string_property_and_nothing_else()
    {
        Assert.Equal("eu", StreamFilter.GetValue(Tagged("a", "eu")));
        Assert.Null(StreamFilter.GetValue(Tagged("a", 42)));
        Assert.Null(StreamFilter.GetValue(Tagged("a", null)));
        Assert.Null(StreamFilter.GetValue(new Message(One)));
        Assert.Null(StreamFilter.GetValue(new Message(One) { ApplicationProperties = new Dictionary<string, object?> { ["filter"] = "eu" } }));
        Assert.Same(StreamFilter.ProducerFilterValue, StreamFilter.ProducerFilterValue);
        Assert.Equal("us", StreamFilter.ProducerFilterValue(Tagged("a", "us")));
    }

    [Fact]
    public void SetValue_writes_the_property_keeping_the_others()
    {
        var bare = new Message(One);
        StreamFilter.SetValue(bare, "eu");
        Assert.Equal("eu", bare.ApplicationProperties![StreamFilter.PropertyName]);

        var tagged = Tagged("a", "us");
        StreamFilter.SetValue(tagged, "eu");
        Assert.Equal(("eu", "x"), (StreamFilter.GetValue(tagged), tagged.ApplicationProperties!["other"]));

        // Through the encoding, as a consumer reads it.
        Assert.Equal("eu", StreamFilter.GetValue(Message.Decode(tagged.ToArray())));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Matches_keeps_wanted_values_and_unfiltered_messages_only_when_asked(bool matchUnfiltered)
    {
        string[] wanted = ["eu", "apac"];
        Assert.True(StreamFilter.Matches(Tagged("a", "eu"), wanted, matchUnfiltered));
        Assert.True(StreamFilter.Matches(Tagged("a", "apac"), wanted, matchUnfiltered));
        Assert.False(StreamFilter.Matches(Tagged("a", "us"), wanted, matchUnfiltered));
        Assert.False(StreamFilter.Matches(Tagged("a", "EU"), wanted, matchUnfiltered));
        Assert.Equal(matchUnfiltered, StreamFilter.Matches(new Message(One), wanted, matchUnfiltered));
        Assert.Equal(matchUnfiltered, StreamFilter.Matches(Tagged("a", 1), wanted, matchUnfiltered));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_post_filter_reads_stored_entries_by_the_same_rule(bool matchUnfiltered)
    {
        var filter = StreamFilter.CreatePostFilter(["eu"], matchUnfiltered);
        Assert.True(filter(Entry(Tagged("a", "eu").ToArray())));
        Assert.False(filter(Entry(Tagged("a", "us").ToArray())));

        // The CLI's old property is not the convention: such a message is unfiltered.
        var oldCli = new Message(One) { ApplicationProperties = new Dictionary<string, object?> { ["filter"] = "eu" } };
        Assert.Equal(matchUnfiltered, filter(Entry(oldCli.ToArray())));

        // A body alone and a raw (not AMQP 1.0) entry carry no filter value.
        var bodyAlone = new Message(Encoding.UTF8.GetBytes("body")).ToArray();
        Assert.True(Message.TryGetBareBody(bodyAlone, out _, out _));
        Assert.Equal(matchUnfiltered, filter(Entry(bodyAlone)));
        Assert.Equal(matchUnfiltered, filter(Entry(Encoding.UTF8.GetBytes("eu"))));
        Assert.Equal(matchUnfiltered, filter(Entry([])));

        // AMQP with properties but no filter value.
        var withId = new Message(One) { Properties = new MessageProperties { MessageId = "m-1" } };
        Assert.Equal(matchUnfiltered, filter(Entry(withId.ToArray())));
    }

    [Fact]
    public void The_post_filter_lets_corrupt_amqp_through_so_that_it_is_seen()
    {
        var filter = StreamFilter.CreatePostFilter(["eu"], matchUnfiltered: false);
        var entry = Tagged("a", "us").ToArray();
        var truncated = entry.AsSpan(0, entry.Length - 3).ToArray();
        Assert.Equal(EntryFormat.Amqp, Message.DetectFormat(truncated));
        Assert.False(Entry(truncated).TryDecodeMessage(out _));
        Assert.True(filter(Entry(truncated)));
    }

    [Fact]
    public void The_post_filter_copies_its_values()
    {
        var values = new List<string> { "eu" };
        var filter = StreamFilter.CreatePostFilter(values, matchUnfiltered: false);
        values[0] = "us";
        Assert.True(filter(Entry(Tagged("a", "eu").ToArray())));
        Assert.False(filter(Entry(Tagged("a", "us").ToArray())));
    }

    [Fact]
    public void Arguments_are_validated()
    {
        Assert.Equal("message", Assert.Throws<ArgumentNullException>(() => StreamFilter.GetValue(null!)).ParamName);
        Assert.Equal("message", Assert.Throws<ArgumentNullException>(() => StreamFilter.SetValue(null!, "eu")).ParamName);
        Assert.Equal("value", Assert.Throws<ArgumentNullException>(() => StreamFilter.SetValue(new Message(One), null!)).ParamName);
        Assert.Equal("value", Assert.Throws<ArgumentException>(() => StreamFilter.SetValue(new Message(One), "")).ParamName);
        Assert.Equal("message", Assert.Throws<ArgumentNullException>(() => StreamFilter.Matches(null!, ["eu"], false)).ParamName);
        Assert.Equal("values", Assert.Throws<ArgumentNullException>(() => StreamFilter.Matches(new Message(One), null!, false)).ParamName);
        Assert.Equal("values", Assert.Throws<ArgumentNullException>(() => StreamFilter.CreatePostFilter(null!, false)).ParamName);
        Assert.Equal("values", Assert.Throws<ArgumentException>(() => StreamFilter.CreatePostFilter([], false)).ParamName);
        Assert.Equal("values", Assert.Throws<ArgumentException>(() => StreamFilter.CreatePostFilter(["eu", ""], false)).ParamName);
        Assert.Equal("values", Assert.Throws<ArgumentException>(() => StreamFilter.CreatePostFilter(["eu", null!], false)).ParamName);
    }
}
