using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Browser;

/// <summary>
/// Many tabs of the page in one Chromium profile, as a visitor opens them: over HTTPS the browser speaks HTTP/2 and
/// every tab stays live on one connection.
/// </summary>
public sealed partial class ManyTabsTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncDisposable
{
    private static readonly string[] Transports = ["short-poll", "long-poll", "sse", "websocket"];

    private readonly RequestLedger _ledger = new();
    private KestrelApplication? _app;
    private IBrowserContext? _context;

    public async ValueTask DisposeAsync()
    {
        if (_context is not null)
        {
            await _context.DisposeAsync();
        }

        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public async Task TenTabsOverHttp2AllStayLiveOnOneConnection()
    {
        _app = new KestrelApplication(services: _ledger.Register, protocols: HttpProtocols.Http1AndHttp2, tls: true);
        var context = await NewContextAsync();
        var tabs = new List<IPage>();
        for (var i = 0; i < 10; i++)
        {
            var tab = await context.NewPageAsync();
            await tab.GotoAsync("/");
            await ExpectLiveAsync(tab);
            tabs.Add(tab);
        }

        using var client = _app.CreateHttp2Client();

        // The address a page over plain HTTP would link to: this one, as the request named the host.
        using var stats = JsonDocument.Parse(await client.GetStringAsync("/api/stats", TestClients.Deadline()));
        Assert.Equal(_app.BaseAddress.ToString(), stats.RootElement.GetProperty("https").GetString());

        var published = await client.PublishAsync("test", new { tabs = 10 }, TestClients.Deadline());
        foreach (var tab in tabs)
        {
            foreach (var transport in Transports)
            {
                await Assertions.Expect(Panel(tab, transport).Locator($"li[data-seq=\"{published.Seq}\"]"))
                    .ToHaveCountAsync(1);
            }
        }

        // A message from the last tab's publish box (POST /api/events) completes and reaches every tab.
        var last = tabs[^1];
        await last.GetByLabel("Message").FillAsync("from the tenth tab");
        await last.GetByLabel("via").SelectOptionAsync("http");
        await last.GetByRole(AriaRole.Button, new() { Name = "Publish" }).ClickAsync();
        await Assertions.Expect(last.Locator("#publish-status")).ToContainTextAsync("published as #");
        foreach (var tab in tabs)
        {
            foreach (var transport in Transports)
            {
                await Assertions.Expect(Panel(tab, transport).Locator("li[data-type=chat] .text"))
                    .ToHaveTextAsync("from the tenth tab");
            }

            // The page reports HTTP/2: measured for the polls (both have completed a request by now), inferred for the
            // stream, which Resource Timing reports only once it ends.
            await ExpectProtocolAsync(tab, "short-poll", "h2", "measured");
            await ExpectProtocolAsync(tab, "long-poll", "h2", "measured");
            await ExpectProtocolAsync(tab, "sse", "h2", "inferred");
            await Assertions.Expect(tab.Locator("#connections")).ToHaveAttributeAsync("data-shared", "true");
            await Assertions.Expect(tab.Locator("#http1-warning")).ToBeHiddenAsync();
        }

        // What the host saw: every request of every tab over HTTP/2, the WebSockets too (Chromium opens them as
        // extended CONNECT streams, RFC 8441), all on one connection.
        var seen = _ledger.FromBrowser();
        Assert.All(seen, request => Assert.Equal("HTTP/2", request.Protocol));
        Assert.Equal(10, seen.Count(request => request.Path == "/ws"));
        Assert.Single(seen.Select(request => request.Connection).Distinct());
        TestContext.Current.SendDiagnosticMessage(
            $"10 tabs over HTTPS: {seen.Count} requests (10 WebSockets) on 1 HTTP/2 connection");
        await SaveScreenshotAsync(tabs[0], "ten-tabs-http2");
    }

    private async Task<IBrowserContext> NewContextAsync()
    {
        // One context is one profile: its tabs share the browser's connections to the origin, as a visitor's would.
        _context = await browser.RequireBrowser().NewContextAsync(new()
        {
            BaseURL = _app!.BaseAddress.ToString(),
            IgnoreHTTPSErrors = true,
            ViewportSize = new() { Width = 1440, Height = 900 },
        });
        _context.SetDefaultTimeout(20_000);
        return _context;
    }

    // Started, polling every second (so the short poll keeps up within a test's patience) and every panel connected.
    private static async Task ExpectLiveAsync(IPage tab)
    {
        await Assertions.Expect(tab.Locator("body")).ToHaveAttributeAsync("data-ready", "true");
        await tab.GetByLabel("Short-poll interval (s)").FillAsync("1");
        await tab.GetByLabel("Short-poll interval (s)").DispatchEventAsync("change");
        foreach (var transport in Transports)
        {
            await Assertions.Expect(Panel(tab, transport).Locator("[data-field=state]")).ToHaveTextAsync(ConnectedState());
        }
    }

    private static async Task ExpectProtocolAsync(IPage tab, string transport, string protocol, string source)
    {
        var field = Panel(tab, transport).Locator("[data-field=protocol]");
        await Assertions.Expect(field).ToHaveAttributeAsync("data-protocol", protocol);
        await Assertions.Expect(field).ToHaveAttributeAsync("data-source", source);
    }

    private static ILocator Panel(IPage page, string transport) => page.Locator($"[data-transport=\"{transport}\"]");

    private static async Task SaveScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"{name}-1440x900.png");
        await page.ScreenshotAsync(new() { Path = path });
        TestContext.Current.AddAttachment($"{name}.png", await File.ReadAllBytesAsync(path), "image/png");
        TestContext.Current.SendDiagnosticMessage($"Screenshot saved: {path}");
    }

    [GeneratedRegex("^(open|waiting)$")]
    private static partial Regex ConnectedState();

    /// <summary>
    /// Each request the host served, as the host saw it: path, HTTP version, connection, and whether a browser sent it.
    /// </summary>
    private sealed class RequestLedger : IStartupFilter
    {
        private readonly ConcurrentQueue<(string Path, string Protocol, string Connection, bool Browser)> _requests = new();

        public void Register(IServiceCollection services) => services.AddSingleton<IStartupFilter>(this);

        public List<(string Path, string Protocol, string Connection, bool Browser)> FromBrowser() =>
            _requests.Where(request => request.Browser).ToList();

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                var browser = context.Request.Headers.UserAgent.ToString().Contains("Chrome", StringComparison.Ordinal);
                _requests.Enqueue((context.Request.Path, context.Request.Protocol, context.Connection.Id, browser));
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
