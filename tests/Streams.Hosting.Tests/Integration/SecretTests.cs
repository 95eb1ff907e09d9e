using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Streams.Client;
using Streams.Hosting.Internal;
using Streams.Testing;

namespace Streams.Hosting.Tests.Integration;

[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class SecretTests(BrokerFixture broker)
{
    [Fact]
    public async Task Neither_logs_nor_errors_show_the_password()
    {
        const string Secret = "Wr0ng-S3cret-Value";
        var logs = new FakeLogCollector();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Trace);
        builder.Services.AddRabbitStreams(o =>
        {
            o.ConnectionString = $"rabbitmq-stream://{broker.Endpoint.UserName}:{Secret}@{broker.Endpoint.Host}:{broker.Endpoint.Port}/";
        });
        using var host = builder.Build();
        var provider = host.Services.GetRequiredService<StreamSystemProvider>();
        var ex = await Assert.ThrowsAsync<AuthenticationFailureException>(() => provider.GetAsync(TestContext.Current.CancellationToken).AsTask());
        Assert.DoesNotContain(Secret, ex.ToString(), StringComparison.Ordinal);
        var lines = logs.GetSnapshot().Select(e => e.Message + " " + e.Exception).ToList();
        Assert.Contains(lines, l => l.Contains("Connecting to RabbitMQ Streams", StringComparison.Ordinal) && l.Contains(":***@", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(Secret, StringComparison.Ordinal));
    }
}
