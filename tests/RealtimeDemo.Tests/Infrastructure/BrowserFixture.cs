using Microsoft.Playwright;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>
/// Debian's Chromium driven by Playwright, shared by a test class. No browser is ever downloaded: the tests use
/// the system's Chromium (<c>/usr/bin/chromium</c>, or <c>CHROMIUM_PATH</c>). Without it they skip with the reason,
/// except under CI (see <see cref="ExternalComponent"/>), where a missing browser is a failure.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public static string ExecutablePath => ExternalComponent.Locate("CHROMIUM_PATH", "/usr/bin/chromium");

    /// <summary>The browser, or null when there is none on this machine (see <see cref="RequireBrowser"/>).</summary>
    public IBrowser? Browser { get; private set; }

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            return;
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,

            // Root in a container has no sandbox to enter; the rest keep Chromium off the (closed) network.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>The browser; skips the test when there is none, or fails it under CI.</summary>
    public IBrowser RequireBrowser()
    {
        ExternalComponent.Require(ExecutablePath, "Chromium", "CHROMIUM_PATH");
        return Browser ?? throw new InvalidOperationException("Chromium is installed but was not launched.");
    }

    /// <summary>
    /// A new profile for a page at <paramref name="baseAddress"/>: a 1440 × 900 window and 20 s for any step, as every
    /// browser test uses. Skips (or fails under CI) without a browser.
    /// </summary>
    public async Task<IBrowserContext> NewContextAsync(Uri baseAddress, bool ignoreHttpsErrors = false)
    {
        var context = await RequireBrowser().NewContextAsync(new()
        {
            BaseURL = baseAddress.ToString(),
            IgnoreHTTPSErrors = ignoreHttpsErrors,
            ViewportSize = new() { Width = 1440, Height = 900 },
        });
        context.SetDefaultTimeout(20_000);
        return context;
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}
