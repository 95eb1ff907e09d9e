using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Streams.Client;
using Streams.Client.Compression;

namespace Streams.Hosting.Tests.DependencyInjection;

/// <summary>
/// <c>RabbitStreams:Publishing:SubEntrySize</c> and <c>Compression</c>: bound from configuration, validated at start by
/// key (a codec that is not registered says how to register it), and filter values refused while batching.
/// </summary>
public sealed class SubEntryPublishingOptionsTests
{
    private static IConfiguration Config(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    private static ServiceProvider Provider(IConfiguration configuration, bool codecs)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        var builder = services.AddRabbitStreams(configuration);
        if (codecs)
        {
            builder.AddCompressionCodecs(StreamCompressionCodecs.All);
        }

        return services.BuildServiceProvider();
    }

    private static OptionsValidationException Failure(IConfiguration configuration, bool codecs = false)
    {
        using var provider = Provider(configuration, codecs);
        return Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value);
    }

    [Fact]
    public void The_keys_bind_and_default_to_no_sub_entry_batches()
    {
        using (var provider = Provider(Config(("RabbitStreams:Publishing:SubEntrySize", "10"), ("RabbitStreams:Publishing:Compression", "zstd")), codecs: true))
        {
            var publishing = provider.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value.Publishing;
            Assert.Equal((10, CompressionType.Zstd), (publishing.SubEntrySize, publishing.Compression));
        }

        using (var provider = Provider(Config(), codecs: false))
        {
            var publishing = provider.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value.Publishing;
            Assert.Equal((1, CompressionType.None), (publishing.SubEntrySize, publishing.Compression));
        }

        // Gzip is built in: no codec to register.
        using var gzip = Provider(Config(("RabbitStreams:Publishing:SubEntrySize", "100"), ("RabbitStreams:Publishing:Compression", "Gzip")), codecs: false);
        Assert.Equal(CompressionType.Gzip, gzip.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value.Publishing.Compression);
    }

    [Fact]
    public void Bad_values_fail_naming_the_key()
    {
        var ex = Failure(Config(("RabbitStreams:Publishing:SubEntrySize", "0")));
        Assert.Contains("RabbitStreams:Publishing:SubEntrySize must be 1-65535 (was 0; 1 = no sub-entry batches).", ex.Failures);
        ex = Failure(Config(("RabbitStreams:Publishing:SubEntrySize", "65536")));
        Assert.Contains("RabbitStreams:Publishing:SubEntrySize must be 1-65535 (was 65536; 1 = no sub-entry batches).", ex.Failures);
        ex = Failure(Config(("RabbitStreams:Publishing:SubEntrySize", "10"), ("RabbitStreams:Publishing:Compression", "7")));
        Assert.Contains("RabbitStreams:Publishing:Compression must be None, Gzip, Snappy, Lz4 or Zstd (was 7).", ex.Failures);
        ex = Failure(Config(("RabbitStreams:Publishing:Compression", "Gzip")));
        Assert.Contains("RabbitStreams:Publishing:Compression (Gzip) compresses sub-entry batches: set RabbitStreams:Publishing:SubEntrySize above 1.", ex.Failures);
    }

    [Theory]
    [InlineData("Snappy")]
    [InlineData("Lz4")]
    [InlineData("Zstd")]
    public void A_codec_that_is_not_registered_fails_saying_how_to_register_it(string codec)
    {
        var config = Config(("RabbitStreams:Publishing:SubEntrySize", "10"), ("RabbitStreams:Publishing:Compression", codec));
        var failure = Assert.Single(Failure(config).Failures);
        Assert.Equal(
            $"RabbitStreams:Publishing:Compression is {codec}, but no {codec} codec is registered: add the Streams.Client.Compression package "
            + $"and call AddRabbitStreams(...).AddCompressionCodecs(StreamCompressionCodecs.All) (or AddCompressionCodec(StreamCompressionCodecs.{codec})).",
            failure);

        using var registered = Provider(config, codecs: true);
        Assert.Equal(codec, registered.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value.Publishing.Compression.ToString());
    }

    [Fact]
    public async Task The_host_start_fails_for_an_unregistered_codec_and_for_an_unknown_one()
    {
        foreach (var (value, expected) in new[]
        {
            ("Zstd", "RabbitStreams:Publishing:Compression is Zstd, but no Zstd codec is registered"),
            ("Brotli", "RabbitStreams:Publishing:Compression"),
        })
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Configuration.AddInMemoryCollection([new("RabbitStreams:Publishing:SubEntrySize", "10"), new("RabbitStreams:Publishing:Compression", value)]);
            builder.Services.AddRabbitStreams(builder.Configuration);
            using var host = builder.Build();
            var ex = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(TestContext.Current.CancellationToken));
            Assert.True(ex is OptionsValidationException or InvalidOperationException, ex.ToString());
            Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_filter_value_is_refused_while_publishing_in_sub_entry_batches()
    {
        await using var provider = Provider(Config(("RabbitStreams:Publishing:SubEntrySize", "10")), codecs: false);
        var publisher = provider.GetRequiredService<IStreamPublisher>();
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => publisher.PublishAsync("orders", "m", new PublishOptions { FilterValue = "eu" }, TestContext.Current.CancellationToken));
        Assert.Contains("RabbitStreams:Publishing:SubEntrySize is 10", ex.Message, StringComparison.Ordinal);
    }
}
