using System.Collections.Concurrent;
using System.Diagnostics;
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
/// every tab stays live on one connection; over plain HTTP/1.1 the browser's six connections per origin run out and
/// the page stalls. The figures the page's footnote states come from here.
/// </summary>
public sealed partial class ManyTabsTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncDisposable
{
    private static readonly string[] Transports = ["auto", "short-poll", "long-poll", "sse", "websocket"];

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
        _app = new KestrelApplication(
            new Dictionary<string, string?> { ["Realtime:HeartbeatInterval"] = "00:00:05" }, services: _ledger.Register,
            protocols: HttpProtocols.Http1AndHttp2, tls: true);
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
        Assert.Equal(20, seen.Count(request => request.Path == "/ws")); // each tab's WebSocket panel and automatic panel
        Assert.Single(seen.Select(request => request.Connection).Distinct());
        TestContext.Current.SendDiagnosticMessage(
            $"10 tabs over HTTPS: {seen.Count} requests (20 WebSockets) on 1 HTTP/2 connection");
        await SaveScreenshotAsync(tabs[0], "ten-tabs-http2");
    }

    [Fact]
    public async Task EightTabsOverHttp11RunOutOfConnectionsAndStall()
    {
        // The page holds a long poll for one heartbeat interval: here 5 minutes, so that however slowly a busy machine
        // runs the steps below, no hold ends and frees a connection until the test says.
        _app = new KestrelApplication(
            new Dictionary<string, string?> { ["Realtime:HeartbeatInterval"] = "00:05:00", ["Realtime:LongPollMaxTimeout"] = "00:05:00" },
            services: _ledger.Register);
        var context = await NewContextAsync();
        var opened = Stopwatch.StartNew();
        var tabs = new List<IPage>();

        // Three tabs, one after another, each live: three SSE streams and three held long polls, the browser's six
        // connections to this origin.
        for (var i = 0; i < 3; i++)
        {
            var tab = await context.NewPageAsync();
            await tab.GotoAsync("/");
            await ExpectLiveAsync(tab);
            tabs.Add(tab);
        }

        using var client = _app.CreateSocketClient();
        var deadline = TestClients.Deadline();
        await TestClients.WaitUntilAsync(
            async () => await OpenAsync(client, "sse", deadline) == 3 && await OpenAsync(client, "long-poll", deadline) == 3,
            deadline);
        var before = await StatsAsync(client, deadline);
        var shortPollsBefore = await ShortPollAnswersAsync(tabs);

        // Five more tabs, as a visitor opens them, and a message from the first tab's publish box (POST /api/events).
        var waiting = new List<IPage>();
        var navigations = new List<Task>();
        for (var i = 0; i < 5; i++)
        {
            var tab = await context.NewPageAsync();
            waiting.Add(tab);
            navigations.Add(tab.GotoAsync("/", new() { WaitUntil = WaitUntilState.Commit, Timeout = 0 }));
        }

        tabs.AddRange(waiting);
        var first = tabs[0];
        await first.GetByLabel("Message").FillAsync("from the first tab");
        await first.GetByLabel("via").SelectOptionAsync("http");
        await first.GetByRole(AriaRole.Button, new() { Name = "Publish" }).ClickAsync();

        // The positive control is above: the first three tabs went live (in well under a second each) and the host answers.
        // Now 5 s, five short-poll intervals and many times what a page load or a publish takes with a connection free, in
        // which nothing may move. The host's own counters show the six connections held all through: no long poll was
        // answered or asked again, so no request could have had a connection.
        await Task.Delay(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        var after = await StatsAsync(client, deadline);
        var shortPollsAfter = await ShortPollAnswersAsync(tabs[..3]);
        var states = await SnapshotAsync(tabs);
        var started = states.Count(tab => tab.Ready);
        var publishStatus = await first.Locator("#publish-status").TextContentAsync();
        TestContext.Current.SendDiagnosticMessage(
            $"8 tabs over HTTP/1.1, after {opened.Elapsed.TotalSeconds:F1} s: {started} started; "
            + $"short polls made {before.ShortPolls} then {after.ShortPolls} requests "
            + $"(pages' answers: {string.Join(",", shortPollsBefore)} then {string.Join(",", shortPollsAfter)}); "
            + $"publish status '{publishStatus}'. {string.Join("; ", states)}");

        Assert.Equal(before.LongPolls, after.LongPolls);
        Assert.Equal((3, 3), (after.OpenStreams, after.HeldLongPolls));
        Assert.Equal(3, started);
        Assert.Equal(before.ShortPolls, after.ShortPolls);
        Assert.Equal(shortPollsBefore, shortPollsAfter);
        Assert.Equal(string.Empty, publishStatus);
        Assert.Equal(0, await Panel(first, "sse").Locator("li[data-type=chat]").CountAsync());

        // Only the streams carry on: an event published now reaches the first three tabs' SSE and WebSocket panels.
        var published = await client.PublishAsync("test", new { tabs = 8 }, deadline);
        foreach (var tab in tabs[..3])
        {
            foreach (var transport in new[] { "sse", "websocket" })
            {
                await Assertions.Expect(Panel(tab, transport).Locator($"li[data-seq=\"{published.Seq}\"]")).ToHaveCountAsync(1);
            }
        }

        // The page says why, and that this host offers no HTTPS address to go to instead.
        await Assertions.Expect(first.Locator("#http1-warning")).ToBeVisibleAsync();
        await Assertions.Expect(first.Locator("#https-missing")).ToBeVisibleAsync();
        await Assertions.Expect(first.Locator("#connections")).ToHaveAttributeAsync("data-protocol", "http/1.1");
        await SaveScreenshotAsync(first, "eight-tabs-http1");

        // What stalled was waiting for a connection, nothing else: with the five new tabs and tabs 2 and 3 closed, their
        // streams and held polls free four connections, and the first tab's publish completes and comes back to it.
        foreach (var tab in tabs[1..])
        {
            await tab.CloseAsync();
        }

        await Assertions.Expect(first.Locator("#publish-status")).ToContainTextAsync("published as #");
        await Assertions.Expect(Panel(first, "sse").Locator("li[data-type=chat] .text")).ToHaveTextAsync("from the first tab");

        // The stalled navigations ended with their tabs, most with an error that says so.
        await context.CloseAsync();
        foreach (var navigation in navigations)
        {
            try
            {
                await navigation;
            }
            catch (PlaywrightException)
            {
                // Never committed: the tab closed while its page waited for a connection.
            }
        }
    }

    private static async Task<long> OpenAsync(HttpClient client, string transport, CancellationToken cancellationToken) =>
        (await client.TransportStatsAsync(transport, cancellationToken)).GetProperty("open").GetInt64();

    private static async Task<(long OpenStreams, long HeldLongPolls, long LongPolls, long ShortPolls)> StatsAsync(
        HttpClient client, CancellationToken cancellationToken)
    {
        var longPoll = await client.TransportStatsAsync("long-poll", cancellationToken);
        var shortPoll = await client.TransportStatsAsync("short-poll", cancellationToken);
        return (await OpenAsync(client, "sse", cancellationToken), longPoll.GetProperty("open").GetInt64(),
            longPoll.GetProperty("requests").GetInt64(), shortPoll.GetProperty("requests").GetInt64());
    }

    // The short-poll panels' own count of answers, per tab: with no event published, every answer is an empty one.
    private static async Task<List<string>> ShortPollAnswersAsync(IEnumerable<IPage> tabs)
    {
        var counts = new List<string>();
        foreach (var tab in tabs)
        {
            counts.Add(await Panel(tab, "short-poll").Locator("[data-counter=empty]").InnerTextAsync());
        }

        return counts;
    }

    private async Task<IBrowserContext> NewContextAsync()
    {
        // One context is one profile: its tabs share the browser's connections to the origin, as a visitor's would.
        _context = await browser.NewContextAsync(_app!.BaseAddress, ignoreHttpsErrors: true);
        return _context;
    }

    // Started, polling every second (so the short poll keeps up within a test's patience) and every panel connected.
    private static async Task ExpectLiveAsync(IPage tab)
    {
        await Assertions.Expect(tab.Locator("body")).ToHaveAttributeAsync("data-ready", "true");
        foreach (var transport in Transports)
        {
            await Assertions.Expect(Panel(tab, transport).Locator("[data-field=state]")).ToHaveTextAsync(ConnectedState());
        }

        // Checked before, not after: once a tab's streams hold the last free connections, a short poll the new interval
        // starts at once stays "connecting".
        await tab.GetByLabel("Short-poll interval (s)").FillAsync("1");
        await tab.GetByLabel("Short-poll interval (s)").DispatchEventAsync("change");
    }

    private static async Task ExpectProtocolAsync(IPage tab, string transport, string protocol, string source)
    {
        var field = Panel(tab, transport).Locator("[data-field=protocol]");
        await Assertions.Expect(field).ToHaveAttributeAsync("data-protocol", protocol);
        await Assertions.Expect(field).ToHaveAttributeAsync("data-source", source);
    }

    private static ILocator Panel(IPage page, string transport) => page.Locator($"[data-transport=\"{transport}\"]");

    /// <summary>What each tab shows now, from the page's own states: started or not, and each panel's state.</summary>
    private static async Task<List<TabState>> SnapshotAsync(List<IPage> tabs)
    {
        var states = new List<TabState>();
        foreach (var tab in tabs)
        {
            // A tab whose page never arrived still shows about:blank; nothing is asked of it, so a navigation that
            // commits meanwhile cannot fail the snapshot (the counts then tell what moved).
            if (tab.Url == "about:blank")
            {
                states.Add(new TabState(states.Count + 1, false, []));
                continue;
            }

            var json = await tab.EvaluateAsync<string>(
                """
                () => JSON.stringify({
                  ready: document.body?.dataset.ready === 'true',
                  panels: [...document.querySelectorAll('[data-transport]')]
                    .map((panel) => ({ name: panel.dataset.transport, state: panel.dataset.state ?? '' })),
                })
                """);
            using var snapshot = JsonDocument.Parse(json);
            var panels = snapshot.RootElement.GetProperty("panels").EnumerateArray().ToList();
            states.Add(new TabState(
                states.Count + 1,
                snapshot.RootElement.GetProperty("ready").GetBoolean(),
                panels.ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("state").GetString()!)));
        }

        return states;
    }

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

    private sealed record TabState(int Tab, bool Ready, Dictionary<string, string> State)
    {
        public override string ToString() =>
            $"tab {Tab}: {(Ready ? string.Join(' ', State.Select(panel => $"{panel.Key}={panel.Value}")) : "not started")}";
    }

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
