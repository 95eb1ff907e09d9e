using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Client;
using Streams.Hosting.Testing.Containers;

namespace Streams.Hosting.Testing.Tests.Containers;

/// <summary>The real RabbitMQ in a container, reached only through Docker's mapped ports.</summary>
[Trait("Category", "Docker")]
[Collection(RabbitStreamsCollection.Name)]
public sealed class ContainerBrokerTests(RabbitStreamsFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private RabbitStreamsContainer Broker => fixture.Container;

    [Fact]
    public async Task The_stream_port_is_mapped_and_the_broker_advertises_the_mapped_address_in_metadata()
    {
        Assert.NotEqual(RabbitStreamsContainer.StreamPort, Broker.MappedStreamPort);
        Assert.Equal($"rabbitmq-stream://streams:streams@{Broker.Host}:{Broker.MappedStreamPort}/%2f", Broker.ConnectionString);
        var stream = RabbitStreamsFixture.UniqueName("metadata");
        await using var system = await StreamSystem.ConnectAsync(Broker.CreateStreamSystemOptions(), Ct);
        await system.CreateStreamAsync(stream, cancellationToken: Ct);
        try
        {
            var metadata = (await system.QueryMetadataAsync([stream], Ct)).Single();
            // Without the advertised host/port written at start, the leader would be the container's name and port 5552.
            Assert.Equal(new StreamEndpoint(Broker.Host, Broker.MappedStreamPort), metadata.Leader);
        }
        finally
        {
            await system.DeleteStreamAsync(stream, CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_producer_and_a_consumer_located_through_metadata_publish_and_consume_through_the_connection_string()
    {
        var stream = RabbitStreamsFixture.UniqueName("roundtrip");
        await using var system = await StreamSystem.ConnectAsync(StreamSystemOptions.FromUri(Broker.ConnectionString), Ct);
        await system.CreateStreamAsync(stream, cancellationToken: Ct);
        try
        {
            // Producers and consumers open their own connection to the node that Metadata names (the leader).
            await using (var producer = await system.CreateProducerAsync(new ProducerOptions(stream), Ct))
            {
                for (var i = 0; i < 10; i++)
                {
                    await producer.SendAsync(Encoding.UTF8.GetBytes($"message {i}"), Ct);
                }
            }

            var received = new List<string>();
            await using var consumer = await system.CreateConsumerAsync(new ConsumerOptions(stream) { Offset = OffsetSpecification.First }, Ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(Patience);
            await foreach (var delivery in consumer.ReadAllAsync(timeout.Token))
            {
                received.Add(Encoding.UTF8.GetString(delivery.DecodeMessage().Body.Span));
                if (received.Count == 10)
                {
                    break;
                }
            }

            Assert.Equal(Enumerable.Range(0, 10).Select(i => $"message {i}"), received);
        }
        finally
        {
            await system.DeleteStreamAsync(stream, CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_host_configured_from_the_container_publishes_through_IStreamPublisher()
    {
        var stream = RabbitStreamsFixture.UniqueName("hosting");
        await using var system = await StreamSystem.ConnectAsync(Broker.CreateStreamSystemOptions(), Ct);
        await system.CreateStreamAsync(stream, cancellationToken: Ct);
        try
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Configuration.AddInMemoryCollection(Broker.ToConfiguration());
            builder.Services.AddRabbitStreams(builder.Configuration);
            using (var host = builder.Build())
            {
                await host.StartAsync(Ct);
                await host.Services.GetRequiredService<IStreamPublisher>().PublishAsync(stream, new Greeting("from configuration"), Ct);
                await host.StopAsync(CancellationToken.None);
            }

            var options = new HostApplicationBuilder();
            options.Services.AddRabbitStreams(Broker.ConfigureRabbitStreams);
            using (var host = options.Build())
            {
                await host.StartAsync(Ct);
                await host.Services.GetRequiredService<IStreamPublisher>().PublishAsync(stream, new Greeting("from options"), Ct);
                await host.StopAsync(CancellationToken.None);
            }

            var received = new List<Greeting>();
            await using var consumer = await system.CreateConsumerAsync(new ConsumerOptions(stream) { Offset = OffsetSpecification.First }, Ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(Patience);
            await foreach (var delivery in consumer.ReadAllAsync(timeout.Token))
            {
                received.Add(JsonSerializer.Deserialize<Greeting>(delivery.DecodeMessage().Body.Span, JsonSerializerOptions.Web)!);
                if (received.Count == 2)
                {
                    break;
                }
            }

            Assert.Equal([new Greeting("from configuration"), new Greeting("from options")], received);
        }
        finally
        {
            await system.DeleteStreamAsync(stream, CancellationToken.None);
        }
    }

    [Fact]
    public async Task The_management_api_lists_a_stream_listener_for_the_broker_user()
    {
        using var http = new HttpClient { BaseAddress = Broker.ManagementUri };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Broker.UserName}:{Broker.Password}")));
        using var overview = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/overview", UriKind.Relative), Ct));
        var protocols = overview.RootElement.GetProperty("listeners").EnumerateArray().Select(l => l.GetProperty("protocol").GetString()).ToList();
        Assert.Contains("stream", protocols);
    }

    private sealed record Greeting(string Text);
}
