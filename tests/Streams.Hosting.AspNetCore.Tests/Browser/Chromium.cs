using OpenQA.Selenium.Chrome;

namespace Streams.Hosting.AspNetCore.Tests.Browser;

/// <summary>
/// Headless Debian chromium driven by Debian's chromedriver (installed by scripts/chromium.sh, which build.sh runs
/// before the tests). A missing browser fails the test saying how to install it: never a skip.
/// </summary>
public static class Chromium
{
    public const string BrowserPath = "/usr/bin/chromium";
    public const string DriverPath = "/usr/bin/chromedriver";

    public static ChromeDriver Start()
    {
        foreach (var path in new[] { BrowserPath, DriverPath })
        {
            if (!File.Exists(path))
            {
                throw new InvalidOperationException(
                    $"The browser test needs Debian's chromium and chromium-driver: '{path}' does not exist. Install them with `bash scripts/chromium.sh` (apt-get install chromium chromium-driver).");
            }
        }

        // The driver is given: Selenium Manager must not look for (or download) one.
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = BrowserPath };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1800,600", "--no-first-run", "--disable-extensions");
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }
}
