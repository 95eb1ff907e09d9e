using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Streams.Client;
using Streams.Testing;

namespace Streams.Hosting.AspNetCore.Tests;

/// <summary>A message of the test stream.</summary>
public sealed record Ping(int Number);

/// <summary>What the test handler saw, and a gate that blocks it while closed.</summary>
public sealed class Gate
{
    private readonly ConcurrentQueue<(ulong Offset, int Number)> _handled = new();
    private TaskCompletionSource _open = Opened();
    private TaskCompletionSource _blocked = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<(ulong Offset, int Number)> Handled => [.. _handled];

    /// <summary>Completes once the handler waits at the closed gate.</summary>
    public Task Blocked => Volatile.Read(ref _blocked).Task;

    public void Close()
    {
        Volatile.Write(ref _blocked, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        Volatile.Write(ref _open, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }

    public void Open() => Volatile.Read(ref _open).TrySetResult();

    internal async Task PassAsync(ulong offset, int number, CancellationToken cancellationToken)
    {
        var open = Volatile.Read(ref _open);
        if (!open.Task.IsCompleted)
        {
            Volatile.Read(ref _blocked).TrySetResult();
            await open.Task.WaitAsync(cancellationToken);
        }

        _handled.Enqueue((offset, number));
    }

    private static TaskCompletionSource Opened()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }
}

/// <summary>The hosted consumer of the tests: passes the gate, then records the message.</summary>
public sealed class GatedHandler(Gate gate) : IStreamHandler<Ping>
{
    public Task HandleAsync(Ping message, StreamContext context, CancellationToken cancellationToken) =>
        gate.PassAsync(context.Offset, message.Number, cancellationToken);
}

/// <summary>
/// A web application on a loopback port with one named hosted consumer (<see cref="GatedHandler"/>) on a stream of its
/// own, the operations endpoints at <c>/streams</c> and the dashboard at <c>/streams/ui</c>, against the real broker.
/// </summary>
public sealed class OperationsApp : IAsyncDisposable
{
    public const string ConsumerName = "dashboard-test";

    private readonly BrokerFixture _broker;

    private OperationsApp(BrokerFixture broker, WebApplication app, string stream)
    {
        _broker = broker;
        App = app;
        Stream = stream;
    }

    public WebApplication App { get; }

    public string Stream { get; }

    public Gate Gate => App.Services.GetRequiredService<Gate>();

    public Uri Address { get; private set; } = null!;

    public IStreamConsumerMonitor Monitor => App.Services.GetRequiredService<IStreamConsumerMonitor>();

    public StreamConsumerStatus Consumer => Assert.Single(Monitor.GetConsumers());

    public static async Task<OperationsApp> StartAsync(BrokerFixture broker, Action<WebApplication>? map = null)
    {
        var stream = BrokerFixture.UniqueName("aspnet-ops");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<Gate>();
        builder.Services.AddRabbitStreams(o =>
            {
                o.Endpoints.Add(new RabbitStreamsEndpoint(broker.Endpoint.Host, broker.Endpoint.Port));
                o.UserName = broker.Endpoint.UserName;
                o.Password = broker.Endpoint.Password;
                o.VirtualHost = broker.Endpoint.VirtualHost;
                o.Consumers.CommitInterval = TimeSpan.FromMilliseconds(200);
            })
            .AddStream(stream)
            .AddConsumer<GatedHandler>(c => { c.Stream = stream; c.Name = ConsumerName; })
            .ConfigureTelemetry(o => o.LagSamplingInterval = TimeSpan.FromMilliseconds(200));
        var app = builder.Build();
        if (map is null)
        {
            app.MapRabbitStreamsOperations("/streams");
            app.MapRabbitStreamsDashboard("/streams/ui", o => o.RefreshInterval = TimeSpan.FromMilliseconds(250));
        }
        else
        {
            map(app);
        }

        var result = new OperationsApp(broker, app, stream);
        await app.StartAsync(TestContext.Current.CancellationToken);
        result.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        await result.WaitUntilAsync(() => result.Consumer.State == StreamConsumerState.Running, "the consumer runs");
        return result;
    }

    public HttpClient CreateClient() => new() { BaseAddress = Address };

    public Task PublishAsync(int number) =>
        App.Services.GetRequiredService<IStreamPublisher>().PublishAsync(Stream, new Ping(number), cancellationToken: TestContext.Current.CancellationToken);

    /// <summary>The lag the diagnostics measured last.</summary>
    public long? Lag() => App.Services.GetRequiredService<IRabbitStreamsDiagnostics>().GetConsumer(Consumer)?.Lag;

    public async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for: {what} (consumer: {Consumer})");
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Gate.Open();
        try
        {
            await App.StopAsync(CancellationToken.None);
        }
        finally
        {
            await App.DisposeAsync();
            await using var system = await StreamSystem.ConnectAsync(new StreamSystemOptions
            {
                Endpoints = { new StreamEndpoint(_broker.Endpoint.Host, _broker.Endpoint.Port) },
                UserName = _broker.Endpoint.UserName,
                Password = _broker.Endpoint.Password,
                VirtualHost = _broker.Endpoint.VirtualHost,
            });
            if (await system.StreamExistsAsync(Stream))
            {
                await system.DeleteStreamAsync(Stream);
            }
        }
    }
}
