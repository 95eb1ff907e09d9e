using Streams.Client;
using Streams.Testing;

namespace Streams.Samples.Tests;

/// <summary>Direct broker access for the tests: inspecting and cleaning up the streams the samples created.</summary>
public static class BrokerStreams
{
    public static string Uri(this BrokerFixture fixture) =>
        $"rabbitmq-stream://{System.Uri.EscapeDataString(fixture.Endpoint.UserName)}:{System.Uri.EscapeDataString(fixture.Endpoint.Password)}" +
        $"@{fixture.Endpoint.Host}:{fixture.Endpoint.Port}/{System.Uri.EscapeDataString(fixture.Endpoint.VirtualHost)}";

    public static Task<StreamSystem> ConnectAsync(this BrokerFixture fixture) =>
        StreamSystem.ConnectAsync(StreamSystemOptions.FromUri(fixture.Uri()), TestContext.Current.CancellationToken);

    /// <summary>Deletes the streams (those that exist) once a test is done with them.</summary>
    public static async Task DeleteStreamsAsync(this BrokerFixture fixture, params string[] streams)
    {
        await using var system = await fixture.ConnectAsync();
        foreach (var stream in streams)
        {
            if (await system.StreamExistsAsync(stream))
            {
                await system.DeleteStreamAsync(stream);
            }
        }
    }
}
