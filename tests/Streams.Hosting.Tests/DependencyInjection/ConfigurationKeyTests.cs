using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Streams.Hosting.Internal;

namespace Streams.Hosting.Tests.DependencyInjection;

/// <summary>Issue 14, trap 4: a misspelled key under <c>RabbitStreams</c> fails the start instead of leaving the default in place.</summary>
public sealed class ConfigurationKeyTests
{
    private static OptionsValidationException? Start(params (string Key, string? Value)[] values)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build();
        var services = new ServiceCollection();
        services.AddRabbitStreams(configuration);
        using var provider = services.BuildServiceProvider();
        try
        {
            _ = provider.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value;
            return null;
        }
        catch (OptionsValidationException ex)
        {
            return ex;
        }
    }

    [Fact]
    public void The_misspellings_of_the_report_are_all_named_together_with_the_nearest_known_key()
    {
        var error = Start(
            ("RabbitStreams:ConectionString", "rabbitmq-stream://guest:guest@broker:5552/%2f"),
            ("RabbitStreams:Consumers:FailurePolicy:MaxRetry", "5"),
            ("RabbitStreams:Consumer:CommitInterval", "00:00:01"));

        Assert.NotNull(error);
        Assert.Contains("RabbitStreams:ConectionString is not a known setting (did you mean RabbitStreams:ConnectionString?)", error.Message, StringComparison.Ordinal);
        Assert.Contains("RabbitStreams:Consumers:FailurePolicy:MaxRetry is not a known setting (did you mean RabbitStreams:Consumers:FailurePolicy:MaxRetries?)", error.Message, StringComparison.Ordinal);
        Assert.Contains("RabbitStreams:Consumer is not a known setting (did you mean RabbitStreams:Consumers?)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_far_from_every_known_key_lists_the_known_ones()
    {
        var error = Start(("RabbitStreams:Zzzzzzzzzzzz", "1"));
        Assert.NotNull(error);
        Assert.Contains("RabbitStreams:Zzzzzzzzzzzz is not a known setting; known keys under RabbitStreams: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionString", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lists_dictionaries_nested_sections_and_any_casing_are_accepted()
    {
        Assert.Null(Start(
            ("RabbitStreams:endpoints:0:host", "node1"),
            ("RabbitStreams:Endpoints:0:Port", "5553"),
            ("RabbitStreams:Endpoints:1:Host", "node2"),
            ("RabbitStreams:UserName", "app"),
            ("RabbitStreams:Heartbeat", "00:00:05"),
            ("RabbitStreams:DeadPeerTimeout", "00:00:12"),
            ("RabbitStreams:Publishing:SuperStreamRouting:invoices", "Key"),
            ("RabbitStreams:Publishing:DeduplicationProducerName", "api"),
            ("RabbitStreams:Consumers:FailurePolicy:MaxRetries", "2"),
            ("RabbitStreams:consumers:failurepolicy:deadletterstream", "{stream}.dlq")));
    }

    [Fact]
    public void Keys_under_a_single_value_or_unnumbered_list_items_are_refused()
    {
        var error = Start(
            ("RabbitStreams:RequestTimeout:Seconds", "5"),
            ("RabbitStreams:Endpoints:first:Host", "node1"),
            ("RabbitStreams:Endpoints:0:Hots", "node1"));
        Assert.NotNull(error);
        Assert.Contains("RabbitStreams:RequestTimeout:Seconds is not a known setting: RabbitStreams:RequestTimeout is a single value", error.Message, StringComparison.Ordinal);
        Assert.Contains("RabbitStreams:Endpoints:first is not a known setting: the items of RabbitStreams:Endpoints are numbered", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Contains("RabbitStreams:Endpoints:0:Hots is not a known setting (did you mean RabbitStreams:Endpoints:0:Host?)", StringComparison.Ordinal), error.Message);
    }

    [Fact]
    public void The_heartbeat_and_dead_peer_timeout_reach_the_client_and_are_validated()
    {
        var options = new RabbitStreamsOptions { Heartbeat = TimeSpan.FromSeconds(5), DeadPeerTimeout = TimeSpan.FromSeconds(12) }.ToStreamSystemOptions();
        Assert.Equal(TimeSpan.FromSeconds(5), options.RequestedHeartbeat);
        Assert.Equal(TimeSpan.FromSeconds(12), options.DeadPeerTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), new RabbitStreamsOptions().ToStreamSystemOptions().RequestedHeartbeat);

        var error = Start(("RabbitStreams:Heartbeat", "00:00:10"), ("RabbitStreams:DeadPeerTimeout", "00:00:05"));
        Assert.NotNull(error);
        Assert.Contains("RabbitStreams:DeadPeerTimeout must be at least 1 s and longer than RabbitStreams:Heartbeat", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ConectionString", "ConnectionString")]
    [InlineData("Consumer", "Consumers")]
    [InlineData("MaxRetry", "MaxRetries")]
    [InlineData("Database", null)]
    public void Nearest_suggests_only_close_keys(string key, string? expected) =>
        Assert.Equal(expected, ConfigurationKeyValidator.Nearest(key, ["ConnectionString", "Consumers", "MaxRetries", "Publishing"]));
}
