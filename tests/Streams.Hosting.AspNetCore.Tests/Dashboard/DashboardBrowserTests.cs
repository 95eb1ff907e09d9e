using OpenQA.Selenium;
using OpenQA.Selenium.Support.UI;
using Streams.Hosting.AspNetCore.Tests.Browser;
using Streams.Testing;

namespace Streams.Hosting.AspNetCore.Tests.Dashboard;

/// <summary>The dashboard in a real headless browser (Debian chromium) against a host consuming from the real broker.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
public sealed class DashboardBrowserTests(BrokerFixture broker)
{
    /// <summary>Offset-store tracking entries take offsets too: a caught-up consumer can show this much residual lag.</summary>
    private const int TrackingSlack = 3;

    [Fact]
    public async Task The_dashboard_shows_the_consumer_its_lag_rising_and_falling_and_pauses_resumes_and_rewinds_it()
    {
        await using var app = await OperationsApp.StartAsync(broker);
        await app.PublishAsync(0);
        await app.WaitUntilAsync(() => app.Gate.Handled.Count == 1, "the first message is handled");

        using var driver = Chromium.Start();
        driver.Navigate().GoToUrl(new Uri(app.Address, "/streams/ui"));
        var wait = new WebDriverWait(driver, TimeSpan.FromSeconds(30)) { PollingInterval = TimeSpan.FromMilliseconds(100) };
        IWebElement Row() => driver.FindElement(By.CssSelector($"#consumers tr[data-consumer='{OperationsApp.ConsumerName}']"));
        string Cell(string cls) => Row().FindElement(By.CssSelector("td." + cls)).Text;
        long? PageLag() => long.TryParse(Cell("c-lag"), out var lag) ? lag : null;

        // The running consumer is listed, and the script took over (live updates).
        Assert.Equal(app.Stream, Cell("c-stream"));
        wait.Until(_ => Cell("c-state") == "Running");
        wait.Until(d => d.FindElement(By.Id("live")).Text.StartsWith("(live", StringComparison.Ordinal));
        wait.Until(_ => PageLag() <= TrackingSlack);

        // A blocked handler: the lag shown grows with every message published behind it...
        app.Gate.Close();
        await app.PublishAsync(1);
        await app.Gate.Blocked.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        for (var i = 2; i <= 21; i++)
        {
            await app.PublishAsync(i);
        }

        var peak = (long)wait.Until(_ => PageLag() is long lag && lag >= 20 ? (object)lag : null);
        Assert.True(peak >= 20, $"lag on the page {peak}");

        // ...and drops once it is released and catches up, without a page reload.
        driver.ExecuteScript("window.sameDocument = true;");
        app.Gate.Open();
        wait.Until(_ => PageLag() <= TrackingSlack);
        await app.WaitUntilAsync(() => app.Gate.Handled.Count == 22, "every message is handled");
        Assert.Equal(true, driver.ExecuteScript("return window.sameDocument === true;"));

        // The sparkline has the history of that rise and fall.
        var points = Row().FindElement(By.CssSelector("td.c-spark svg polyline")).GetAttribute("points");
        Assert.False(string.IsNullOrWhiteSpace(points));

        // Pause from the page: the consumer is paused (the monitor says so) and the page shows it.
        Row().FindElement(By.CssSelector("button.pause")).Click();
        await app.WaitUntilAsync(() => app.Consumer.State == StreamConsumerState.Paused, "the consumer is paused");
        wait.Until(_ => Cell("c-state").StartsWith("Paused", StringComparison.Ordinal));
        wait.Until(d => d.FindElement(By.Id("message")).Text.Contains("done", StringComparison.Ordinal));

        var screenshot = Path.Combine(AppContext.BaseDirectory, "dashboard.png");
        driver.GetScreenshot().SaveAsFile(screenshot);
        TestContext.Current.AddAttachment("dashboard.png", await File.ReadAllBytesAsync(screenshot, TestContext.Current.CancellationToken), "image/png");

        // Resume from the page: a message published while paused is handled after it.
        await app.PublishAsync(22);
        Assert.Equal(22, app.Gate.Handled.Count);
        Row().FindElement(By.CssSelector("button.resume")).Click();
        await app.WaitUntilAsync(() => app.Consumer.State == StreamConsumerState.Running, "the consumer is resumed");
        await app.WaitUntilAsync(() => app.Gate.Handled.Count == 23, "the message published while paused is handled after resume");

        // Rewind from the page to an offset: the messages from there on are handled again.
        // (Offset-tracking entries take offsets too: the messages' offsets are not contiguous.)
        var target = app.Gate.Handled[20].Offset;
        var again = app.Gate.Handled.Where(h => h.Offset >= target).Select(h => h.Number).ToArray();
        Row().FindElement(By.CssSelector("input.rewind-to")).SendKeys($"offset:{target}");
        Row().FindElement(By.CssSelector("button.rewind")).Click();
        await app.WaitUntilAsync(() => app.Gate.Handled.Count >= 23 + again.Length, $"the messages from offset {target} handled again");
        Assert.Equal(again, app.Gate.Handled.Skip(23).Select(h => h.Number));
        wait.Until(d => d.FindElement(By.Id("message")).Text.StartsWith("Rewind", StringComparison.Ordinal)
            && d.FindElement(By.Id("message")).Text.Contains("done", StringComparison.Ordinal));
    }
}
