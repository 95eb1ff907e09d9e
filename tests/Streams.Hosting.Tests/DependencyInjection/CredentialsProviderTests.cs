using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Streams.Client;
using Streams.Hosting.Internal;
using Streams.Testing;

namespace Streams.Hosting.Tests.DependencyInjection;

/// <summary>Issue 16 item 3: an <see cref="IStreamCredentialsProvider"/> registered in DI logs the hosted connections in.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class CredentialsProviderTests(BrokerFixture broker)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_provider_registered_in_DI_supplies_the_credentials_of_the_hosted_stream_system()
    {
        var calls = 0;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(StreamCredentialsProvider.Create(_ =>
        {
            Interlocked.Increment(ref calls);
            return ValueTask.FromResult(new StreamCredentials(broker.Endpoint.UserName, broker.Endpoint.Password));
        }));
        builder.Services.AddRabbitStreams(o =>
        {
            o.Endpoints.Add(new RabbitStreamsEndpoint { Host = broker.Endpoint.Host, Port = broker.Endpoint.Port });
            o.UserName = "not-this-user";
            o.Password = "not-this-password";
        });
        using var host = builder.Build();

        var system = await host.Services.GetRequiredService<StreamSystemProvider>().GetAsync(Ct);
        Assert.True(system.IsOpen);
        Assert.True(Volatile.Read(ref calls) >= 1);
        Assert.DoesNotContain(broker.Endpoint.Password, host.Services.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_provider_set_in_code_wins_over_the_one_in_DI_and_without_either_none_is_set()
    {
        var inCode = StreamCredentialsProvider.Static("code", "secret");
        var services = new ServiceCollection();
        services.AddSingleton(StreamCredentialsProvider.Static("di", "secret"));
        services.AddRabbitStreams(o => o.CredentialsProvider = inCode);
        using (var provider = services.BuildServiceProvider())
        {
            var options = provider.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value;
            Assert.Same(inCode, options.CredentialsProvider);
            Assert.Same(inCode, options.ToStreamSystemOptions().CredentialsProvider);
        }

        var plain = new ServiceCollection();
        plain.AddRabbitStreams(_ => { });
        using var plainProvider = plain.BuildServiceProvider();
        Assert.Null(plainProvider.GetRequiredService<IOptions<RabbitStreamsOptions>>().Value.CredentialsProvider);
    }
}
