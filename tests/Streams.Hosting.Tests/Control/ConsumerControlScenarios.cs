using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Streams.Hosting.Internal.Backend;
using Streams.Hosting.Tests.Consuming;
using Streams.Hosting.Tests.Harness;
using Streams.Hosting.Tests.Integration;
using Streams.Testing;

namespace Streams.Hosting.Tests.Control;

/// <summary>
/// Pause, resume, rewind and AutoStart of <see cref="IStreamConsumerControl"/>, on the in-memory harness
/// (<see cref="HarnessConsumerControlScenarios"/>) and the real broker (<see cref="BrokerConsumerControlScenarios"/>)
/// with the same assertions.
/// </summary>
public abstract class ConsumerControlScenarios
{
    /// <summary>How long "nothing is handled" is watched for (a negative can only be observed over a window).</summary>
    private static readonly TimeSpan QuietWindow = TimeSpan.FromMilliseconds(750);

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    private protected abstract IHost Build(Action<IRabbitStreamsBuilder> configure, Probe probe, Action<RabbitStreamsOptions>? options = null);

    /// <summary>The offset stored for <paramref name="name"/> on <paramref name="stream"/>, read from the broker.</summary>
    private protected abstract Task<ulong?> StoredOffsetAsync(IHost host, string stream, string name);

    [Fact]
    public async Task Pause_lets_the_in_flight_handler_finish_stores_its_offset_and_handles_nothing_more_until_resumed()
    {
        using var app = await StartAsync("control-pause", new Probe { BlockOn = "o-1" });
        var (host, control, probe, stream) = (app.Host, app.Control, app.Probe, app.Stream);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        await PublishAsync(publisher, stream, 0, 2);
        await probe.Blocked.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        var pause = control.PauseAsync("billing", Ct);
        Assert.False(pause.IsCompleted); // o-1 is still being handled
        await PublishAsync(publisher, stream, 2, 2);
        probe.Release.TrySetResult();
        await pause.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        var handled = await probe.TakeAsync(2);
        Assert.Equal(["o-0", "o-1"], handled.Select(h => ((Order)h.Message).Id));
        Assert.Equal(handled[1].Context.Offset, await StoredOffsetAsync(host, stream, "billing"));
        var status = Status(host, "billing");
        Assert.Equal((StreamConsumerState.Paused, "paused"), (status.State, status.StateReason));

        await control.PauseAsync("billing", Ct); // idempotent
        await Task.Delay(QuietWindow, Ct);
        Assert.False(probe.TryTake(out _), "a message was handled while paused");

        await control.ResumeAsync("billing", Ct);
        var after = await probe.TakeAsync(2);
        Assert.Equal(["o-2", "o-3"], after.Select(h => ((Order)h.Message).Id));
        Assert.Equal(4, probe.All.Count); // nothing handled twice
        Assert.Equal(StreamConsumerState.Running, Status(host, "billing").State);
        Assert.Null(Status(host, "billing").StateReason);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Pause_of_an_idle_consumer_completes_at_once_and_the_next_message_waits_for_resume()
    {
        using var app = await StartAsync("control-idle", consumer: c => { c.MaxConcurrency = 4; });
        var (host, control, probe, stream) = (app.Host, app.Control, app.Probe, app.Stream);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        await PublishAsync(publisher, stream, 0, 1);
        await probe.TakeAsync(1);

        await control.PauseAllAsync(Ct);
        await PublishAsync(publisher, stream, 1, 3);
        await Task.Delay(QuietWindow, Ct);
        Assert.False(probe.TryTake(out _), "a message was handled while paused");

        await control.ResumeAllAsync(Ct);
        var after = await probe.TakeAsync(3);
        Assert.Equal(["o-1", "o-2", "o-3"], after.Select(h => ((Order)h.Message).Id).Order());
        Assert.Equal(4, probe.All.Count);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Rewind_to_an_offset_stores_the_offset_before_it_and_handles_again_from_there_while_a_paused_consumer_stays_paused()
    {
        using var app = await StartAsync("control-rewind");
        var (host, control, probe, stream) = (app.Host, app.Control, app.Probe, app.Stream);
        await PublishAsync(host.Services.GetRequiredService<IStreamPublisher>(), stream, 0, 5);
        var first = await probe.TakeAsync(5);

        await control.PauseAsync("billing", Ct);
        Assert.Equal(first[4].Context.Offset, await StoredOffsetAsync(host, stream, "billing"));
        var target = first[2].Context.Offset;
        await control.RewindAsync("billing", StreamRewindTarget.Offset(target), Ct);

        Assert.Equal(target - 1, await StoredOffsetAsync(host, stream, "billing"));
        Assert.Equal(StreamConsumerState.Paused, (await WaitForStateAsync(host, "billing", StreamConsumerState.Paused)).State);
        await Task.Delay(QuietWindow, Ct);
        Assert.False(probe.TryTake(out _), "a rewound paused consumer handled a message");

        await control.ResumeAsync("billing", Ct);
        var again = await probe.TakeAsync(3);
        Assert.Equal(["o-2", "o-3", "o-4"], again.Select(h => ((Order)h.Message).Id));
        Assert.Equal(target, again[0].Context.Offset);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Rewind_of_a_running_consumer_to_first_and_to_last_handles_again_from_there()
    {
        using var app = await StartAsync("control-first-last");
        var (host, control, probe, stream) = (app.Host, app.Control, app.Probe, app.Stream);
        await PublishAsync(host.Services.GetRequiredService<IStreamPublisher>(), stream, 0, 3);
        await probe.TakeAsync(3);

        await control.RewindAsync("billing", StreamRewindTarget.First, Ct);
        var replayed = await probe.TakeAsync(3);
        Assert.Equal(["o-0", "o-1", "o-2"], replayed.Select(h => ((Order)h.Message).Id));
        Assert.Equal(0UL, replayed[0].Context.Offset);

        // Last: the last chunk again (o-2 was published alone, so its chunk holds it alone).
        await control.PauseAsync("billing", Ct);
        await control.RewindAsync("billing", StreamRewindTarget.Last, Ct);
        var stored = await StoredOffsetAsync(host, stream, "billing");
        await control.ResumeAsync("billing", Ct);
        var last = await probe.TakeAsync(1);
        Assert.Equal("o-2", ((Order)last[0].Message).Id);
        Assert.Equal(last[0].Context.Offset - 1, stored);
        await Task.Delay(QuietWindow, Ct);
        Assert.False(probe.TryTake(out var extra), $"more than the last chunk was handled again: {extra.Message}");
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Rewind_to_a_timestamp_handles_again_from_the_first_chunk_stored_at_or_after_it()
    {
        using var app = await StartAsync("control-time");
        var (host, control, probe, stream) = (app.Host, app.Control, app.Probe, app.Stream);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        await PublishAsync(publisher, stream, 0, 2);
        await probe.TakeAsync(2);
        await Task.Delay(50, Ct); // distinct chunk timestamps (milliseconds) for the second batch
        await PublishAsync(publisher, stream, 2, 2);
        var second = await probe.TakeAsync(2);

        await control.PauseAsync("billing", Ct);
        await control.RewindAsync("billing", StreamRewindTarget.Timestamp(second[0].Context.Timestamp), Ct);
        Assert.Equal(second[0].Context.Offset - 1, await StoredOffsetAsync(host, stream, "billing"));
        await control.ResumeAsync("billing", Ct);
        var again = await probe.TakeAsync(2);
        Assert.Equal(["o-2", "o-3"], again.Select(h => ((Order)h.Message).Id));

        // After the last message: nothing is handled again; the next message published is.
        await control.PauseAsync("billing", Ct);
        await control.RewindAsync("billing", StreamRewindTarget.Timestamp(second[1].Context.Timestamp.AddMinutes(1)), Ct);
        await control.ResumeAsync("billing", Ct);
        await PublishAsync(publisher, stream, 4, 1);
        Assert.Equal("o-4", ((Order)(await probe.TakeAsync(1))[0].Message).Id);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task AutoStart_false_handles_nothing_until_resumed()
    {
        var stream = BrokerFixture.UniqueName("control-autostart");
        var probe = new Probe();
        using var host = Build(
            b => b.AddStream(stream)
                .AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "billing"; })
                .AddConsumer<RawBatchHandler>(c => { c.Stream = stream; c.Name = "audit"; c.AutoStart = true; }),
            probe,
            o => o.Consumers.AutoStart = false);
        await host.StartAsync(Ct);
        var control = host.Services.GetRequiredService<IStreamConsumerControl>();
        await PublishAsync(host.Services.GetRequiredService<IStreamPublisher>(), stream, 0, 2);
        await TestHost.WaitUntilAsync(() => probe.BatchSizes.Sum() == 2, "the auto-started consumer handles both");
        while (probe.TryTake(out _))
        {
        }

        var status = Status(host, "billing");
        Assert.Equal((StreamConsumerState.Paused, "not started"), (status.State, status.StateReason));
        await Task.Delay(QuietWindow, Ct);
        Assert.Equal(0, probe.Invocations);
        Assert.Null(await StoredOffsetAsync(host, stream, "billing"));

        await control.PauseAsync("billing", Ct); // pausing a consumer not started: it stays not started
        Assert.Equal("not started", Status(host, "billing").StateReason);
        await control.ResumeAsync("billing", Ct);
        var handled = await probe.TakeAsync(2);
        Assert.Equal(["o-0", "o-1"], handled.Select(h => ((Order)h.Message).Id));
        Assert.Equal(StreamConsumerState.Running, (await WaitForStateAsync(host, "billing", StreamConsumerState.Running)).State);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task AutoStart_false_from_the_consumer_settings_starts_paused()
    {
        var stream = BrokerFixture.UniqueName("control-byname");
        var probe = new Probe();
        using var host = Build(
            b => b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "billing"; }),
            probe,
            o => o.Consumers.ByName["billing"] = new StreamConsumerSettings { AutoStart = false });
        await host.StartAsync(Ct);
        await PublishAsync(host.Services.GetRequiredService<IStreamPublisher>(), stream, 0, 1);
        Assert.Equal("not started", (await WaitForStateAsync(host, "billing", StreamConsumerState.Paused)).StateReason);
        await host.Services.GetRequiredService<IStreamConsumerControl>().ResumeAsync("billing", Ct);
        Assert.Equal("o-0", ((Order)(await probe.TakeAsync(1))[0].Message).Id);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task A_paused_consumer_is_healthy_and_counted_as_paused()
    {
        var stream = BrokerFixture.UniqueName("control-health");
        var probe = new Probe();
        using var host = Build(b =>
        {
            b.AddStream(stream).AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "billing"; });
            b.Services.AddHealthChecks().AddRabbitStreams(o => o.LagThreshold = 0);
        }, probe);
        await host.StartAsync(Ct);
        await WaitForStateAsync(host, "billing", StreamConsumerState.Running);
        await host.Services.GetRequiredService<IStreamConsumerControl>().PauseAsync("billing", Ct);
        await PublishAsync(host.Services.GetRequiredService<IStreamPublisher>(), stream, 0, 3); // lag while paused is no problem

        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(Ct);
        Assert.Equal(HealthStatus.Healthy, report.Status);
        var data = (IReadOnlyDictionary<string, object?>)report.Entries.Single().Value.Data.Single(d => d.Key.StartsWith("consumer:billing", StringComparison.Ordinal)).Value;
        Assert.Equal(("Paused", "paused"), (data["state"], data["stateReason"]));
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Unknown_names_and_bad_arguments_are_rejected()
    {
        var stream = BrokerFixture.UniqueName("control-args");
        using var host = Build(b => b.AddStream(stream)
            .AddConsumer<OrderHandler>(c => { c.Stream = stream; c.Name = "billing"; })
            .AddConsumer<RawBatchHandler>(c => c.Stream = stream), new Probe());
        await host.StartAsync(Ct);
        var control = host.Services.GetRequiredService<IStreamConsumerControl>();

        var missing = await Assert.ThrowsAsync<StreamConsumerNotFoundException>(() => control.PauseAsync("shipping", Ct));
        Assert.Equal("shipping", missing.Consumer);
        Assert.Equal(["billing"], missing.KnownNames);
        Assert.Contains("'shipping'", missing.Message, StringComparison.Ordinal);
        Assert.Contains("'billing'", missing.Message, StringComparison.Ordinal);
        Assert.Contains("Anonymous consumers", missing.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<StreamConsumerNotFoundException>(() => control.ResumeAsync("Billing", Ct)); // names are case-sensitive, as on the broker
        await Assert.ThrowsAsync<StreamConsumerNotFoundException>(() => control.RewindAsync("shipping", StreamRewindTarget.First, Ct));

        await Assert.ThrowsAsync<ArgumentNullException>(() => control.PauseAsync(null!, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => control.PauseAsync("", Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => control.ResumeAsync("", Ct));
        await Assert.ThrowsAsync<ArgumentNullException>(() => control.ResumeAsync(null!, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => control.RewindAsync("", StreamRewindTarget.First, Ct));
        await Assert.ThrowsAsync<ArgumentNullException>(() => control.RewindAsync("billing", null!, Ct));
        Assert.Equal(StreamConsumerState.Running, (await WaitForStateAsync(host, "billing", StreamConsumerState.Running)).State);
        await host.StopAsync(Ct);
    }

    /// <summary>A started host with one consumer named "billing" of <see cref="OrderHandler"/> on a new stream.</summary>
    private async Task<App> StartAsync(string prefix, Probe? probe = null, Action<StreamConsumerOptions>? consumer = null)
    {
        var stream = BrokerFixture.UniqueName(prefix);
        probe ??= new Probe();
        var host = Build(b => b.AddStream(stream).AddConsumer<OrderHandler>(c =>
        {
            c.Stream = stream;
            c.Name = "billing";
            consumer?.Invoke(c);
        }), probe);
        await host.StartAsync(Ct);
        return new App(host, host.Services.GetRequiredService<IStreamConsumerControl>(), probe, stream);
    }

    private static async Task PublishAsync(IStreamPublisher publisher, string stream, int from, int count)
    {
        for (var i = from; i < from + count; i++)
        {
            await publisher.PublishAsync(stream, new Order($"o-{i}", i), Ct);
        }
    }

    private static StreamConsumerStatus Status(IHost host, string name) =>
        host.Services.GetRequiredService<IStreamConsumerMonitor>().GetConsumers().Single(c => c.Name == name);

    private static async Task<StreamConsumerStatus> WaitForStateAsync(IHost host, string name, StreamConsumerState state)
    {
        await TestHost.WaitUntilAsync(() => Status(host, name).State == state, $"consumer {name} {state} (is {Status(host, name).State})");
        return Status(host, name);
    }
}

internal sealed record App(IHost Host, IStreamConsumerControl Control, Probe Probe, string Stream) : IDisposable
{
    public void Dispose() => Host.Dispose();
}

/// <summary>The control scenarios on the in-memory harness.</summary>
public sealed class HarnessConsumerControlScenarios : ConsumerControlScenarios
{
    private protected override IHost Build(Action<IRabbitStreamsBuilder> configure, Probe probe, Action<RabbitStreamsOptions>? options = null) =>
        HarnessHost.Build(configure, options, probe);

    private protected override Task<ulong?> StoredOffsetAsync(IHost host, string stream, string name) =>
        host.Services.GetRequiredService<IStreamsBackend>().QueryOffsetAsync(name, stream, Ct);
}

/// <summary>The control scenarios on the real broker.</summary>
[Collection(BrokerCollection.Name)]
public sealed class BrokerConsumerControlScenarios(BrokerFixture broker) : ConsumerControlScenarios
{
    private protected override IHost Build(Action<IRabbitStreamsBuilder> configure, Probe probe, Action<RabbitStreamsOptions>? options = null)
        => TestHost.Build(broker, configure, options, probe);

    private protected override async Task<ulong?> StoredOffsetAsync(IHost host, string stream, string name)
    {
        await using var system = await TestHost.ConnectAsync(broker.Endpoint);
        return await system.QueryOffsetAsync(name, stream, Ct);
    }
}
