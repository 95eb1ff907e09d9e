namespace Streams.Client.Tests.Management;

public sealed class OptionsTests
{
    [Fact]
    public void FromUri_parses_everything()
    {
        var options = StreamSystemOptions.FromUri("rabbitmq-stream://us%40er:p%3Ass@broker.example:5553/%2f");
        Assert.Equal("us@er", options.UserName);
        Assert.Equal("p:ss", options.Password);
        Assert.Equal(new StreamEndpoint("broker.example", 5553), Assert.Single(options.Endpoints));
        Assert.Equal("/", options.VirtualHost);
    }

    [Theory]
    [InlineData("rabbitmq-stream://localhost", "/", 5552)]
    [InlineData("rabbitmq-stream://localhost/", "/", 5552)]
    [InlineData("rabbitmq-stream://localhost:5551/prod", "prod", 5551)]
    [InlineData("rabbitmq-stream://localhost/a%2Fb", "a/b", 5552)]
    public void FromUri_defaults(string uri, string vhost, int port)
    {
        var options = StreamSystemOptions.FromUri(uri);
        Assert.Equal(vhost, options.VirtualHost);
        Assert.Equal(port, Assert.Single(options.Endpoints).Port);
        Assert.Equal("guest", options.UserName);
    }

    [Fact]
    public void FromUri_accepts_several_hosts_and_ipv6()
    {
        var options = StreamSystemOptions.FromUri("rabbitmq-stream://u:p@h1:1111,h2,[::1]:3333/v");
        Assert.Equal([new StreamEndpoint("h1", 1111), new StreamEndpoint("h2", 5552), new StreamEndpoint("::1", 3333)], options.Endpoints);
    }

    [Theory]
    [InlineData("amqp://localhost")]
    [InlineData("rabbitmq-stream://")]
    [InlineData("rabbitmq-stream://host:notaport/")]
    [InlineData("rabbitmq-stream://host:70000/")]
    public void FromUri_rejects_bad_uris(string uri) =>
        Assert.Throws<ArgumentException>(() => StreamSystemOptions.FromUri(uri));

    [Fact]
    public void FromUri_error_does_not_leak_the_password()
    {
        var ex = Assert.Throws<ArgumentException>(() => StreamSystemOptions.FromUri("rabbitmq-stream://user:secret@host:bad/"));
        Assert.DoesNotContain("secret", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_names_the_bad_option()
    {
        Assert.Equal("VirtualHost", Assert.Throws<ArgumentException>(() => new StreamSystemOptions { VirtualHost = "" }.Validate()).ParamName);
        Assert.Equal("RequestedFrameMax", Assert.Throws<ArgumentException>(() => new StreamSystemOptions { RequestedFrameMax = 10 }.Validate()).ParamName);
        Assert.Equal("RequestedHeartbeat", Assert.Throws<ArgumentException>(() => new StreamSystemOptions { RequestedHeartbeat = TimeSpan.FromMilliseconds(1500) }.Validate()).ParamName);
        Assert.Equal("RequestTimeout", Assert.Throws<ArgumentException>(() => new StreamSystemOptions { RequestTimeout = TimeSpan.Zero }.Validate()).ParamName);
        new StreamSystemOptions { RequestedFrameMax = 0, RequestedHeartbeat = TimeSpan.Zero }.Validate();
    }

    [Fact]
    public void Endpoint_validates() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new StreamEndpoint("h", 0));

    [Fact]
    public void StreamSpec_arguments()
    {
        var spec = new StreamSpec
        {
            MaxLengthBytes = 5_000_000_000,
            MaxAge = TimeSpan.FromDays(7),
            MaxSegmentSizeBytes = 3_000_000_000,
            InitialClusterSize = 3,
            LeaderLocator = LeaderLocator.ClientLocal,
            FilterSizeBytes = 32,
        };
        var args = spec.ToArguments();
        Assert.Equal("5000000000", args["max-length-bytes"]);
        Assert.Equal("604800s", args["max-age"]);
        Assert.Equal("3000000000", args["stream-max-segment-size-bytes"]);
        Assert.Equal("3", args["initial-cluster-size"]);
        Assert.Equal("client-local", args["queue-leader-locator"]);
        Assert.Equal("32", args["stream-filter-size-bytes"]);
        Assert.Equal("balanced", new StreamSpec { LeaderLocator = LeaderLocator.Balanced }.ToArguments()["queue-leader-locator"]);
        Assert.Empty(new StreamSpec().ToArguments());
    }

    [Theory]
    [InlineData(nameof(StreamSpec.MaxLengthBytes))]
    [InlineData(nameof(StreamSpec.MaxAge))]
    [InlineData(nameof(StreamSpec.MaxSegmentSizeBytes))]
    [InlineData(nameof(StreamSpec.InitialClusterSize))]
    [InlineData(nameof(StreamSpec.LeaderLocator))]
    [InlineData(nameof(StreamSpec.FilterSizeBytes))]
    public void StreamSpec_validation_names_the_property(string property)
    {
        var spec = property switch
        {
            nameof(StreamSpec.MaxLengthBytes) => new StreamSpec { MaxLengthBytes = 0 },
            nameof(StreamSpec.MaxAge) => new StreamSpec { MaxAge = TimeSpan.FromMilliseconds(1500) },
            nameof(StreamSpec.MaxSegmentSizeBytes) => new StreamSpec { MaxSegmentSizeBytes = 3_000_000_001 },
            nameof(StreamSpec.InitialClusterSize) => new StreamSpec { InitialClusterSize = 0 },
            nameof(StreamSpec.LeaderLocator) => new StreamSpec { LeaderLocator = (LeaderLocator)42 },
            _ => new StreamSpec { FilterSizeBytes = 15 },
        };
        var ex = Assert.Throws<ArgumentOutOfRangeException>(spec.Validate);
        Assert.Equal(property, ex.ParamName);
        Assert.Contains(property, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Protocol_exceptions_map_codes_to_types()
    {
        Assert.IsType<StreamDoesNotExistException>(StreamProtocolException.Create(ResponseCode.StreamDoesNotExist, "op", "s"));
        Assert.IsType<StreamAlreadyExistsException>(StreamProtocolException.Create(ResponseCode.StreamAlreadyExists, "op", "s"));
        Assert.IsType<PreconditionFailedException>(StreamProtocolException.Create(ResponseCode.PreconditionFailed, "op", "s"));
        Assert.IsType<AuthenticationFailureException>(StreamProtocolException.Create(ResponseCode.AuthenticationFailure, "op"));
        Assert.IsType<VirtualHostAccessFailureException>(StreamProtocolException.Create(ResponseCode.VirtualHostAccessFailure, "op"));
        Assert.IsType<AccessRefusedException>(StreamProtocolException.Create(ResponseCode.AccessRefused, "op"));
        Assert.IsType<StreamNotAvailableException>(StreamProtocolException.Create(ResponseCode.StreamNotAvailable, "op"));
        var generic = StreamProtocolException.Create(ResponseCode.InternalError, "Delete stream", "orders");
        Assert.Equal(ResponseCode.InternalError, generic.Code);
        Assert.Contains("'orders'", generic.Message, StringComparison.Ordinal);
        Assert.Contains("0x0f", generic.Message, StringComparison.Ordinal);
    }
}
