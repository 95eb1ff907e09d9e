using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Streams.Hosting.Tests.DependencyInjection;

public sealed class OptionsTests
{
    private static IConfiguration Config(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    private static RabbitStreamsOptions Resolve(IConfiguration configuration)
    {
        var services = new ServiceCollection();
        services.AddRabbitStreams(configuration);
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value;
    }

    private static OptionsValidationException ResolveFailure(IConfiguration configuration)
    {
        var services = new ServiceCollection();
        services.AddRabbitStreams(configuration);
        using var provider = services.BuildServiceProvider();
        return Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value);
    }

    [Fact]
    public void Binds_the_RabbitStreams_section_from_the_root()
    {
        var options = Resolve(Config(
            ("RabbitStreams:Endpoints:0:Host", "node1"),
            ("RabbitStreams:Endpoints:0:Port", "5553"),
            ("RabbitStreams:Endpoints:1:Host", "node2"),
            ("RabbitStreams:UserName", "app"),
            ("RabbitStreams:Password", "s3cret"),
            ("RabbitStreams:VirtualHost", "orders"),
            ("RabbitStreams:ConnectionName", "orders-api"),
            ("RabbitStreams:Publishing:Timeout", "00:00:05"),
            ("RabbitStreams:Publishing:DeduplicationProducerName", "orders-api"),
            ("RabbitStreams:Consumers:CommitEveryMessages", "10"),
            ("RabbitStreams:Consumers:CommitInterval", "00:00:01"),
            ("RabbitStreams:Consumers:FailurePolicy:MaxRetries", "5"),
            ("RabbitStreams:Consumers:FailurePolicy:AfterRetries", "Skip"),
            ("RabbitStreams:Consumers:FailurePolicy:Backoff", "Linear")));

        Assert.Equal(["node1:5553", "node2:5552"], options.Endpoints.Select(e => e.ToString()));
        Assert.Equal("app", options.UserName);
        Assert.Equal("orders", options.VirtualHost);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Publishing.Timeout);
        Assert.Equal("orders-api", options.Publishing.DeduplicationProducerName);
        Assert.Equal(10, options.Consumers.CommitEveryMessages);
        Assert.Equal(TimeSpan.FromSeconds(1), options.Consumers.CommitInterval);
        Assert.Equal(5, options.Consumers.FailurePolicy.MaxRetries);
        Assert.Equal(FailureAction.Skip, options.Consumers.FailurePolicy.AfterRetries);
        Assert.Equal(RetryBackoff.Linear, options.Consumers.FailurePolicy.Backoff);

        var client = options.ToStreamSystemOptions();
        Assert.Equal(["node1:5553", "node2:5552"], client.Endpoints.Select(e => e.ToString()));
        Assert.Equal(("app", "s3cret", "orders", "orders-api"), (client.UserName, client.Password, client.VirtualHost, client.ConnectionName));
    }

    [Fact]
    public void Binds_a_section_passed_directly()
    {
        var options = Resolve(Config(("Messaging:Streams:ConnectionString", "rabbitmq-stream://u:p@h:1234/v")).GetSection("Messaging:Streams"));
        Assert.Equal("rabbitmq-stream://u:p@h:1234/v", options.ConnectionString);
    }

    [Fact]
    public void Defaults_are_documented_values()
    {
        var options = Resolve(Config());
        Assert.Equal(10_000, options.Consumers.CommitEveryMessages);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Consumers.CommitInterval);
        Assert.Equal(3, options.Consumers.FailurePolicy.MaxRetries);
        Assert.Equal(FailureAction.DeadLetter, options.Consumers.FailurePolicy.AfterRetries);
        Assert.Equal(TimeSpan.FromSeconds(30), options.Publishing.Timeout);

        var client = options.ToStreamSystemOptions();
        Assert.Equal("localhost:5552", Assert.Single(client.Endpoints).ToString());
        Assert.Equal(("guest", "guest", "/"), (client.UserName, client.Password, client.VirtualHost));
    }

    [Fact]
    public void Connection_string_is_parsed_and_explicit_credentials_override_it()
    {
        var options = new RabbitStreamsOptions { ConnectionString = "rabbitmq-stream://app:p%40ss@broker1:5553,broker2/%2f" };
        var client = options.ToStreamSystemOptions();
        Assert.Equal(["broker1:5553", "broker2:5552"], client.Endpoints.Select(e => e.ToString()));
        Assert.Equal(("app", "p@ss", "/"), (client.UserName, client.Password, client.VirtualHost));

        options.Password = "from-secret-store";
        options.VirtualHost = "other";
        client = options.ToStreamSystemOptions();
        Assert.Equal(("app", "from-secret-store", "other"), (client.UserName, client.Password, client.VirtualHost));
    }

    [Fact]
    public void Super_stream_routing_binds_per_super_stream()
    {
        var options = Resolve(Config(
            ("RabbitStreams:Publishing:SuperStreamRouting:regions", "Key"),
            ("RabbitStreams:Publishing:SuperStreamRouting:orders", "hash")));

        Assert.Equal(Streams.Client.SuperStreamRoutingStrategy.Key, options.Publishing.SuperStreamRouting["regions"]);
        Assert.Equal(Streams.Client.SuperStreamRoutingStrategy.Hash, options.Publishing.SuperStreamRouting["orders"]);
    }

    [Fact]
    public void Super_stream_routing_rejects_an_unknown_strategy()
    {
        var services = new ServiceCollection();
        services.AddRabbitStreams(o => o.Publishing.SuperStreamRouting["regions"] = (Streams.Client.SuperStreamRoutingStrategy)7);
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value);
        Assert.Contains("RabbitStreams:Publishing:SuperStreamRouting:regions must be Hash or Key (was 7).", ex.Failures);
    }

    [Theory]
    [InlineData("")]
    [InlineData("eu| ")]
    [InlineData("eu|eu")]
    public void Binding_keys_must_be_present_distinct_and_not_empty(string keys)
    {
        var builder = new ServiceCollection().AddRabbitStreams(_ => { });
        Assert.ThrowsAny<ArgumentException>(() => builder.AddSuperStream("regions", keys.Length == 0 ? [] : keys.Split('|')));
    }

    [Fact]
    public void A_super_stream_declared_with_binding_keys_routes_by_key_unless_configured()
    {
        var services = new ServiceCollection();
        services.AddRabbitStreams(o => o.Publishing.SuperStreamRouting["pinned"] = Streams.Client.SuperStreamRoutingStrategy.Hash)
            .AddSuperStream("regions", ["eu", "us"])
            .AddSuperStream("pinned", ["a", "b"])
            .AddSuperStream("orders", 3);
        using var provider = services.BuildServiceProvider();
        var routing = provider.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value.Publishing.SuperStreamRouting;

        Assert.Equal(Streams.Client.SuperStreamRoutingStrategy.Key, routing["regions"]);
        Assert.Equal(Streams.Client.SuperStreamRoutingStrategy.Hash, routing["pinned"]);
        Assert.False(routing.ContainsKey("orders"));
    }

    [Fact]
    public void Recovery_start_behavior_and_timeouts_bind_map_to_the_client_and_are_validated_by_key()
    {
        var options = Resolve(Config(
            ("RabbitStreams:StartBehavior", "FailFast"),
            ("RabbitStreams:ConnectTimeout", "00:00:04"),
            ("RabbitStreams:RequestTimeout", "00:00:03"),
            ("RabbitStreams:Recovery:InitialDelay", "00:00:00.2"),
            ("RabbitStreams:Recovery:MaxDelay", "00:00:07"),
            ("RabbitStreams:Recovery:MaxAttempts", "9"),
            ("RabbitStreams:Consumers:WaitForStream", "true")));
        Assert.Equal(RabbitStreamsStartBehavior.FailFast, options.StartBehavior);
        Assert.True(options.Consumers.WaitForStream);
        var client = options.ToStreamSystemOptions();
        Assert.Equal((TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(3)), (client.ConnectTimeout, client.RequestTimeout));
        var policy = options.Recovery.ToRecoveryPolicy();
        Assert.Equal((TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(7), (int?)9), (policy.InitialDelay, policy.MaxDelay, policy.MaxAttempts));
        Assert.Equal(TimeSpan.FromSeconds(1), options.Recovery.ToRecoveryPolicy(initialDelay: TimeSpan.FromSeconds(1)).InitialDelay); // legacy Consumers:RecoveryDelay

        var defaults = Resolve(Config());
        Assert.Equal(RabbitStreamsStartBehavior.ConnectInBackground, defaults.StartBehavior);
        Assert.Null(defaults.Consumers.RecoveryDelay);
        Assert.Equal(Streams.Client.RecoveryPolicy.Default.InitialDelay, defaults.Recovery.ToRecoveryPolicy().InitialDelay);

        var ex = ResolveFailure(Config(
            ("RabbitStreams:ConnectTimeout", "00:00:00"),
            ("RabbitStreams:Recovery:InitialDelay", "00:00:05"),
            ("RabbitStreams:Recovery:MaxDelay", "00:00:01"),
            ("RabbitStreams:Recovery:Jitter", "2"),
            ("RabbitStreams:Recovery:MaxAttempts", "0")));
        Assert.Contains("RabbitStreams:ConnectTimeout must be positive (was 00:00:00).", ex.Failures);
        Assert.Contains("RabbitStreams:Recovery:MaxDelay (00:00:01) must not be shorter than RabbitStreams:Recovery:InitialDelay (00:00:05).", ex.Failures);
        Assert.Contains("RabbitStreams:Recovery:Jitter must be 0-1 (was 2).", ex.Failures);
        Assert.Contains(ex.Failures, f => f.StartsWith("RabbitStreams:Recovery:MaxAttempts must be at least 1", StringComparison.Ordinal));
    }

    [Fact]
    public void Partition_refresh_interval_binds_globally_and_per_super_stream_and_is_validated_by_key()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), Resolve(Config()).SuperStreams.PartitionRefreshInterval);
        var options = Resolve(Config(
            ("RabbitStreams:SuperStreams:PartitionRefreshInterval", "00:00:05"),
            ("RabbitStreams:SuperStreams:PartitionRefreshIntervals:invoices", "00:00:00.200"),
            ("RabbitStreams:SuperStreams:PartitionRefreshIntervals:archive", "-00:00:00.001")));
        Assert.Equal(TimeSpan.FromSeconds(5), options.SuperStreams.PartitionRefreshInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(200), options.SuperStreams.PartitionRefreshIntervals["invoices"]);
        Assert.Equal(Timeout.InfiniteTimeSpan, options.SuperStreams.PartitionRefreshIntervals["archive"]);

        var ex = ResolveFailure(Config(
            ("RabbitStreams:SuperStreams:PartitionRefreshInterval", "00:00:00"),
            ("RabbitStreams:SuperStreams:PartitionRefreshIntervals:invoices", "-00:00:02")));
        Assert.Contains("RabbitStreams:SuperStreams:PartitionRefreshInterval must be positive, or -00:00:00.0010000 to read the partitions once at start (was 00:00:00).", ex.Failures);
        Assert.Contains("RabbitStreams:SuperStreams:PartitionRefreshIntervals:invoices must be positive, or -00:00:00.0010000 to read the partitions once at start (was -00:00:02).", ex.Failures);

        var typo = ResolveFailure(Config(("RabbitStreams:SuperStreams:PartitionRefreshIntervall", "00:00:05")));
        Assert.Contains(
            "RabbitStreams:SuperStreams:PartitionRefreshIntervall is not a known setting (did you mean RabbitStreams:SuperStreams:PartitionRefreshInterval?).",
            typo.Failures);
    }

    [Fact]
    public void Connection_sharing_limits_bind_map_to_the_client_and_are_validated_by_key()
    {
        var options = Resolve(Config(("RabbitStreams:MaxProducersPerConnection", "1"), ("RabbitStreams:MaxConsumersPerConnection", "10")));
        var client = options.ToStreamSystemOptions();
        Assert.Equal((1, 10), (client.MaxProducersPerConnection, client.MaxConsumersPerConnection));
        var defaults = Resolve(Config()).ToStreamSystemOptions();
        Assert.Equal((256, 256), (defaults.MaxProducersPerConnection, defaults.MaxConsumersPerConnection));

        var ex = ResolveFailure(Config(("RabbitStreams:MaxProducersPerConnection", "0"), ("RabbitStreams:MaxConsumersPerConnection", "257")));
        Assert.Contains("RabbitStreams:MaxProducersPerConnection must be 1-256 (was 0).", ex.Failures);
        Assert.Contains("RabbitStreams:MaxConsumersPerConnection must be 1-256 (was 257).", ex.Failures);
    }

    [Fact]
    public void Validation_names_the_bad_key()
    {
        var ex = ResolveFailure(Config(
            ("RabbitStreams:Endpoints:0:Host", "node1"),
            ("RabbitStreams:Endpoints:0:Port", "70000"),
            ("RabbitStreams:Endpoints:1:Port", "5552"),
            ("RabbitStreams:Consumers:CommitEveryMessages", "0"),
            ("RabbitStreams:Consumers:FailurePolicy:MaxRetries", "-1"),
            ("RabbitStreams:Publishing:Timeout", "00:00:00")));

        Assert.Contains("RabbitStreams:Endpoints:0:Port must be 1-65535 (was 70000).", ex.Failures);
        Assert.Contains("RabbitStreams:Endpoints:1:Host is required.", ex.Failures);
        Assert.Contains("RabbitStreams:Consumers:CommitEveryMessages must be at least 1 (was 0).", ex.Failures);
        Assert.Contains("RabbitStreams:Consumers:FailurePolicy:MaxRetries must be 0-10000 (was -1).", ex.Failures);
        Assert.Contains(ex.Failures, f => f.StartsWith("RabbitStreams:Publishing:Timeout must be positive", StringComparison.Ordinal));
    }

    [Fact]
    public void Validation_uses_the_path_of_a_custom_section()
    {
        var ex = ResolveFailure(Config(("Messaging:Streams:Endpoints:0:Host", "h"), ("Messaging:Streams:Endpoints:0:Port", "0")).GetSection("Messaging:Streams"));
        Assert.Contains("Messaging:Streams:Endpoints:0:Port must be 1-65535 (was 0).", ex.Failures);
    }

    [Fact]
    public void Invalid_connection_string_is_reported_without_the_password()
    {
        var ex = ResolveFailure(Config(("RabbitStreams:ConnectionString", "amqp://app:TopSecret@host:5552/")));
        var failure = Assert.Single(ex.Failures);
        Assert.StartsWith("RabbitStreams:ConnectionString is invalid:", failure, StringComparison.Ordinal);
        Assert.DoesNotContain("TopSecret", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Connection_string_and_endpoints_are_exclusive()
    {
        var ex = ResolveFailure(Config(
            ("RabbitStreams:ConnectionString", "rabbitmq-stream://h:5552/"),
            ("RabbitStreams:Endpoints:0:Host", "other")));
        Assert.Contains("RabbitStreams:ConnectionString and RabbitStreams:Endpoints are both set; use one of them.", ex.Failures);
    }

    [Fact]
    public async Task Host_start_fails_with_the_key_in_the_message()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection([new("RabbitStreams:Endpoints:0:Host", "localhost"), new("RabbitStreams:Endpoints:0:Port", "99999")]);
        builder.Services.AddRabbitStreams(builder.Configuration);
        using var host = builder.Build();
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("RabbitStreams:Endpoints:0:Port must be 1-65535 (was 99999).", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_never_shows_the_password()
    {
        var options = new RabbitStreamsOptions
        {
            ConnectionString = "rabbitmq-stream://app:TopSecret1@host:5552/vh",
            Password = "TopSecret2",
            UserName = "app",
        };
        var text = options.ToString();
        Assert.DoesNotContain("TopSecret", text, StringComparison.Ordinal);
        Assert.Contains("rabbitmq-stream://app:***@host:5552/vh", text, StringComparison.Ordinal);
        Assert.Contains("Password = ***", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rabbitmq-stream://u:pw@h:5552/v", "rabbitmq-stream://u:***@h:5552/v")]
    [InlineData("rabbitmq-stream://u@h:5552/v", "rabbitmq-stream://u@h:5552/v")]
    [InlineData("rabbitmq-stream://h:5552", "rabbitmq-stream://h:5552")]
    [InlineData("rabbitmq-stream://u:p@ss@h1,h2", "rabbitmq-stream://u:***@h1,h2")]
    [InlineData("rabbitmq-stream:///v", "rabbitmq-stream:///v")]
    public void Redacts_connection_strings(string input, string expected) =>
        Assert.Equal(expected, RabbitStreamsOptions.RedactConnectionString(input));
}
