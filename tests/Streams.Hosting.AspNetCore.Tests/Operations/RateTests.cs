namespace Streams.Hosting.AspNetCore.Tests.Operations;

/// <summary>The consumer rate the status derives from the lag history.</summary>
public sealed class RateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Fewer_than_two_samples_have_no_rate()
    {
        Assert.Null(RabbitStreamsStatusBuilder.Rate([]));
        Assert.Null(RabbitStreamsStatusBuilder.Rate([new StreamLagSample(T0, 5, 10)]));
    }

    [Fact]
    public void The_rate_is_the_consumed_delta_per_second_within_the_window()
    {
        StreamLagSample[] history =
        [
            new(T0, 0, 0),                          // older than the one-minute window: left out
            new(T0.AddSeconds(70), 0, 1000),
            new(T0.AddSeconds(100), 0, 1300),
            new(T0.AddSeconds(130), 0, 1600),
        ];

        Assert.Equal(10.0, RabbitStreamsStatusBuilder.Rate(history));
    }

    [Fact]
    public void Two_samples_further_apart_than_the_window_still_give_a_rate()
    {
        Assert.Equal(1.0, RabbitStreamsStatusBuilder.Rate([new StreamLagSample(T0, 0, 0), new StreamLagSample(T0.AddMinutes(2), 0, 120)]));
    }
}
