using Streams.Hosting.AspNetCore.Dashboard;

namespace Streams.Hosting.AspNetCore.Tests.Dashboard;

/// <summary>The server-rendered lag chart.</summary>
public sealed class SparklineTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void No_history_draws_only_the_baseline()
    {
        var svg = DashboardPage.Sparkline([]);
        Assert.Contains("no measurement yet", svg, StringComparison.Ordinal);
        Assert.DoesNotContain("<polyline", svg, StringComparison.Ordinal);
    }

    [Fact]
    public void The_line_is_scaled_to_the_largest_lag()
    {
        var svg = DashboardPage.Sparkline([new StreamLagSample(T0, 0, 0), new StreamLagSample(T0.AddSeconds(1), 20, 0), new StreamLagSample(T0.AddSeconds(2), 10, 0)]);

        // 120 x 24: x at 0, 60, 120; y from 23 (lag 0) up to 1 (the largest lag).
        Assert.Contains("points=\"0,23 60,1 120,12 \"", svg, StringComparison.Ordinal);
        Assert.Contains("aria-label=\"lag history: 0 20 10\"", svg, StringComparison.Ordinal);
    }
}
