using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Streams.Hosting.Telemetry;

namespace Streams.Hosting.Tests.Telemetry;

/// <summary>The diagnostics the status endpoints and the dashboard show: lag history, producer statistics.</summary>
public sealed class DashboardDiagnosticsTests
{
    [Fact]
    public void The_lag_history_keeps_the_last_LagHistoryLength_measurements_oldest_first()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var instrumentation = new StreamsInstrumentation(
            services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), Options.Create(new StreamsTelemetryOptions { LagHistoryLength = 3 }), TimeProvider.System);
        var status = new StreamConsumerStatus(typeof(object), "orders", null, "billing", StreamConsumerState.Running, null, null, 0, 0, null);
        var telemetry = instrumentation.AddConsumer(typeof(object), "orders", null, "billing", () => status);

        Assert.Empty(instrumentation.GetConsumer(status)!.LagHistory);
        foreach (var lag in new long[] { 5, 6, 7, 8, -1 })
        {
            telemetry.SetLag(lag);
        }

        Assert.Equal([7L, 8L, 0L], instrumentation.GetConsumer(status)!.LagHistory.Select(s => s.Lag));
    }

    [Fact]
    public void A_lag_history_length_below_one_fails_the_options_validation()
    {
        using var services = new ServiceCollection()
            .AddRabbitStreams(o => o.ConnectionString = "rabbitmq-stream://guest:guest@127.0.0.1:5552/%2f")
            .ConfigureTelemetry(o => o.LagHistoryLength = 0)
            .Services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<StreamsTelemetryOptions>>().Value);
        Assert.Contains("LagHistoryLength", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Producer_statistics_count_confirms_and_failures_but_not_caller_cancellations()
    {
        var statistics = new ProducerStatistics();
        var entry = statistics.For("orders", deduplicating: false);
        Assert.Same(entry, statistics.For("orders", deduplicating: false));
        Assert.Null(statistics.Find("orders", deduplicating: true));
        Assert.Null(entry.LastConfirmLatency);
        Assert.Null(entry.AverageConfirmLatency);

        entry.RecordConfirmed(TimeSpan.FromMilliseconds(2));
        entry.RecordConfirmed(TimeSpan.FromMilliseconds(4));
        Assert.False(entry.RecordFailed(new TimeoutException("no confirm"), CancellationToken.None));
        Assert.False(entry.RecordFailed(new OperationCanceledException(), new CancellationToken(canceled: true)));

        Assert.Equal(2, entry.Confirmed);
        Assert.Equal(1, entry.Failed);
        Assert.Equal(TimeSpan.FromMilliseconds(4), entry.LastConfirmLatency);
        Assert.Equal(TimeSpan.FromMilliseconds(3), entry.AverageConfirmLatency);
        Assert.Equal("no confirm", entry.LastError);
    }
}
