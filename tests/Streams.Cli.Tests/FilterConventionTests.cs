using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Cli.Commands;
using Streams.Client;
using Streams.Hosting;
using Streams.Testing;

namespace Streams.Cli.Tests;

/// <summary>The bodies a hosted consumer handled, in order.</summary>
internal sealed class HandledBodies
{
    private readonly Channel<(string Body, ulong Offset)> _handled = Channel.CreateUnbounded<(string, ulong)>();

    public void Add(string body, ulong offset) => _handled.Writer.TryWrite((body, offset));

    public async Task<List<(string Body, ulong Offset)>> TakeAsync(int count)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var list = new List<(string Body, ulong Offset)>();
        try
        {
            while (list.Count < count)
            {
                list.Add(await _handled.Reader.ReadAsync(cts.Token));
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"The handler got {list.Count} of {count} messages in 30 s: [{string.Join(", ", list.Select(i => i.Body))}]");
        }

        return list;
    }

    public bool TryTake(out (string Body, ulong Offset) item) => _handled.Reader.TryRead(out item);
}

[StreamConsumer("set-by-test")]
internal sealed class FilteredTextHandler(HandledBodies handled) : IStreamHandler<string>
{
    public Task HandleAsync(string message, StreamContext context, CancellationToken cancellationToken)
    {
        handled.Add(message, context.Offset);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Issue 14: one filter convention (<see cref="StreamFilter"/>) across the CLI, the client and hosting. Messages
/// published by <c>streams publish --filter eu</c> reach a hosted consumer with <c>FilterValues = ["eu"]</c> (they
/// used to be dropped, unlogged, with the offset stored past them), and <c>streams tail --filter</c> agrees.
/// </summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class FilterConventionTests(BrokerFixture fixture)
{
    private string Uri => $"rabbitmq-stream://{fixture.Endpoint.UserName}:{fixture.Endpoint.Password}@{fixture.Endpoint.Host}:{fixture.Endpoint.Port}/%2f";

    private async Task<string> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        Assert.Equal(0, await CommandRunner.RunAsync([.. args, "--uri", Uri], output, TestContext.Current.CancellationToken));
        return output.ToString();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_hosted_consumer_handles_exactly_what_the_cli_published_with_its_filter_value(bool matchUnfiltered)
    {
        var ct = TestContext.Current.CancellationToken;
        var stream = BrokerFixture.UniqueName("cli-hosted-filter");
        await using (var system = await StreamSystem.ConnectAsync(StreamSystemOptions.FromUri(Uri), ct))
        {
            await system.CreateStreamAsync(stream, new Streams.Client.StreamSpec { FilterSizeBytes = 32 }, ct);
        }

        // Offsets 0..7; the last one matches, so once it is handled every earlier offset has been read or skipped.
        await RunAsync("publish", "--stream", stream, "--amqp", "--body", "eu-first", "--filter", "eu");
        await RunAsync("publish", "--stream", stream, "--amqp", "--count", "3", "--body", "us-{seq}", "--filter", "us");
        await RunAsync("publish", "--stream", stream, "--amqp", "--count", "2", "--body", "none-{seq}");
        await RunAsync("publish", "--stream", stream, "--body", "raw");
        await RunAsync("publish", "--stream", stream, "--amqp", "--body", "eu-last", "--filter", "eu");
        string[] expected = matchUnfiltered ? ["eu-first", "none-1", "none-2", "raw", "eu-last"] : ["eu-first", "eu-last"];

        var handled = new HandledBodies();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(handled);
        builder.Services.AddRabbitStreams(o => o.ConnectionString = Uri)
            .AddConsumer<FilteredTextHandler>(c => { c.Stream = stream; c.FilterValues = ["eu"]; c.MatchUnfiltered = matchUnfiltered; });
        using var host = builder.Build();
        await host.StartAsync(ct);
        try
        {
            var received = await handled.TakeAsync(expected.Length);
            Assert.Equal(expected, received.Select(r => r.Body));
            Assert.Equal(7UL, received[^1].Offset);
            Assert.False(handled.TryTake(out var extra), $"handled more than expected: {extra.Body}");
            var status = Assert.Single(host.Services.GetRequiredService<IStreamConsumerMonitor>().GetConsumers());
            Assert.Equal((7UL, (long)expected.Length), (status.LastProcessedOffset, status.HandledCount));
        }
        finally
        {
            await host.StopAsync(ct);
        }

        // tail --filter reads the same stream by the same rule.
        var tailArgs = new List<string> { "tail", "--stream", stream, "--filter", "eu", "--count", expected.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (matchUnfiltered)
        {
            tailArgs.Add("--match-unfiltered");
        }

        var lines = (await RunAsync([.. tailArgs])).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(expected, lines.Select(l => l.Split('\t')[^1]));
    }

    [Fact]
    public async Task Cli_messages_carry_the_convention_property_beside_the_broker_filter_value()
    {
        var stream = BrokerFixture.UniqueName("cli-filter-property");
        await RunAsync("publish", "--stream", stream, "--amqp", "--body", "b", "--filter", "eu-{seq}", "--property", "region=eu");
        var line = (await RunAsync("tail", "--stream", stream, "--count", "1", "--format", "json")).Trim();
        using var json = System.Text.Json.JsonDocument.Parse(line);
        var properties = json.RootElement.GetProperty("applicationProperties");
        Assert.Equal("eu-1", properties.GetProperty(StreamFilter.PropertyName).GetString());
        Assert.Equal("eu", properties.GetProperty("region").GetString());
        Assert.False(properties.TryGetProperty("filter", out _));
    }
}
