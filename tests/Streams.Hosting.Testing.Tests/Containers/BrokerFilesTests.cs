using Streams.Hosting.Testing.Containers;

namespace Streams.Hosting.Testing.Tests.Containers;

/// <summary>What the container is started with, and option validation (no Docker needed).</summary>
public sealed class BrokerFilesTests
{
    [Fact]
    public void The_config_sets_the_user_the_advertised_address_and_console_logs()
    {
        var config = BrokerFiles.Config("alice", "s3cret", "127.0.0.1", 49153);
        Assert.Equal(
            "default_user = alice\ndefault_pass = s3cret\nloopback_users = none\nstream.advertised_host = 127.0.0.1\n" +
            "stream.advertised_port = 49153\nlog.console = true\nlog.console.level = info\n",
            config);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65536)]
    public void The_config_rejects_a_port_out_of_range(int port)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BrokerFiles.Config("u", "p", "localhost", port));
    }

    [Fact]
    public void The_start_command_waits_for_the_marker_before_starting_the_broker()
    {
        Assert.Equal(["sh", "-c"], BrokerFiles.StartCommand.Take(2));
        var script = BrokerFiles.StartCommand[2];
        Assert.StartsWith($"while [ ! -f {BrokerFiles.StartMarker} ]", script, StringComparison.Ordinal);
        Assert.EndsWith("exec rabbitmq-server", script, StringComparison.Ordinal);
        Assert.Equal(BrokerFiles.PluginsFile, BrokerFiles.Environment["RABBITMQ_ENABLED_PLUGINS_FILE"]);
        Assert.Equal(BrokerFiles.ConfigFile, BrokerFiles.Environment["RABBITMQ_CONFIG_FILE"]);
        Assert.Contains("rabbitmq_stream,", BrokerFiles.EnabledPlugins, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("unix:///var/run/docker.sock", null, "127.0.0.1")]
    [InlineData("npipe://./pipe/docker_engine", null, "127.0.0.1")]
    [InlineData("tcp://docker.example:2375", null, "docker.example")]
    [InlineData("unix:///var/run/docker.sock", " 10.0.0.5 ", "10.0.0.5")]
    public void Published_ports_are_reached_on_loopback_for_a_local_engine_unless_overridden(string engine, string? hostOverride, string expected)
    {
        Assert.Equal(expected, DockerHost.Resolve(new Uri(engine), hostOverride));
    }

    [Theory]
    [InlineData("", "p")]
    [InlineData("two words", "p")]
    [InlineData("u", "pass#word")]
    [InlineData("u", "quo\"te")]
    public void Credentials_that_cannot_go_into_rabbitmq_conf_are_rejected(string user, string password)
    {
        var options = new RabbitStreamsContainerOptions { UserName = user, Password = password };
        Assert.Throws<ArgumentException>(options.Validate);
    }

    [Fact]
    public void An_empty_image_or_a_non_positive_timeout_is_rejected()
    {
        Assert.Throws<ArgumentException>(new RabbitStreamsContainerOptions { Image = " " }.Validate);
        Assert.Throws<ArgumentException>(new RabbitStreamsContainerOptions { StartTimeout = TimeSpan.Zero }.Validate);
        Assert.Throws<ArgumentException>(() => new RabbitStreamsContainer(new RabbitStreamsContainerOptions { Image = "" }));
    }

    [Fact]
    public void The_container_says_it_is_not_started_before_StartAsync()
    {
        var container = new RabbitStreamsContainer();
        var ex = Assert.Throws<InvalidOperationException>(() => container.ConnectionString);
        Assert.Contains("StartAsync", ex.Message, StringComparison.Ordinal);
    }
}
