namespace Streams.Client.Tests.Management;

/// <summary>Issue 4: validation of the TLS, load-balancer and super-stream options.</summary>
public sealed class Issue4OptionsTests
{
    [Fact]
    public void Tls_is_off_and_sasl_plain_by_default()
    {
        var options = new StreamSystemOptions();
        Assert.False(options.Tls.Enabled);
        Assert.Equal(StreamSaslMechanism.Plain, options.SaslMechanism);
        Assert.Null(options.AddressResolver);
        options.Validate();
    }

    [Fact]
    public void Validation_names_the_bad_tls_and_resolver_options()
    {
        var blankHost = new StreamSystemOptions();
        blankHost.Tls.TargetHost = " ";
        Assert.Equal("TargetHost", Assert.Throws<ArgumentException>(blankHost.Validate).ParamName);

        var attempts = new StreamSystemOptions { AddressResolverMaxAttempts = 0 };
        Assert.Equal("AddressResolverMaxAttempts", Assert.Throws<ArgumentException>(attempts.Validate).ParamName);

        var external = new StreamSystemOptions { SaslMechanism = StreamSaslMechanism.External };
        Assert.Equal("SaslMechanism", Assert.Throws<ArgumentException>(external.Validate).ParamName);
        external.Tls.Enabled = true;
        external.Validate();
    }

    [Fact]
    public void Tls_uri_error_mentions_both_schemes() =>
        Assert.Contains("rabbitmq-stream+tls://", Assert.Throws<ArgumentException>(() => StreamSystemOptions.FromUri("amqps://x")).Message, StringComparison.Ordinal);

    [Fact]
    public void Super_stream_options_validate()
    {
        var producer = new SuperStreamProducerOptions("s", _ => "k") { PartitionRefreshInterval = TimeSpan.Zero };
        Assert.Equal("PartitionRefreshInterval", Assert.Throws<ArgumentOutOfRangeException>(producer.Validate).ParamName);
        producer = new SuperStreamProducerOptions("s", _ => "k") { Name = new string('n', 256) };
        Assert.Equal("Name", Assert.Throws<ArgumentException>(producer.Validate).ParamName);
        producer = new SuperStreamProducerOptions("s", _ => "k") { SubEntrySize = 10, FilterValue = _ => "f" };
        Assert.Equal("FilterValue", Assert.Throws<ArgumentException>(producer.Validate).ParamName);
        producer = new SuperStreamProducerOptions("s", _ => "k") { SubEntrySize = 0 };
        Assert.Equal("SubEntrySize", Assert.Throws<ArgumentOutOfRangeException>(producer.Validate).ParamName);
        producer = new SuperStreamProducerOptions("s", _ => "k") { RoutingStrategy = (SuperStreamRoutingStrategy)7 };
        Assert.Equal("RoutingStrategy", Assert.Throws<ArgumentOutOfRangeException>(producer.Validate).ParamName);
        Assert.Throws<ArgumentNullException>(() => new SuperStreamProducerOptions("s", null!));

        var consumer = new SuperStreamConsumerOptions("s") { InitialCredits = 0 };
        Assert.Equal("InitialCredits", Assert.Throws<ArgumentOutOfRangeException>(consumer.Validate).ParamName);
        new SuperStreamConsumerOptions("s") { Name = "n", PartitionRefreshInterval = TimeSpan.FromSeconds(1) }.Validate();
    }
}
