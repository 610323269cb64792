using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Browser;

/// <summary>
/// The page in a real Chromium opened through restrictive paths, real nginx or a TCP proxy: one that refuses
/// WebSocket upgrades, one that also buffers event streams, one that cuts idle connections, one that goes silent,
/// one that starts allowing upgrades. On each the automatic panel ends on a technique that works with every event
/// once, and the four fixed panels show how each technique fares there. Events are published to the host directly,
/// never through the path under test. Each test reports its figures (time to notice, time to settle, events lost).
/// </summary>
public sealed partial class RestrictivePathTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncDisposable
{
    private static readonly string[] FixedPanels = ["short-poll", "long-poll", "sse", "websocket"];
    private static readonly string[] AllPanels = [.. FixedPanels, "auto"];

    // The page watches at the host's heartbeat interval: 1 s keeps every wait here to seconds.
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(1);

    // nginx's proxy_read_timeout on the idle-cutting path: a few heartbeats long.
    private static readonly TimeSpan ProxyReadTimeout = TimeSpan.FromSeconds(3);

    // The contract is about 2 x the heartbeat (2 s) to notice a silent path; 10 s leaves room for timers on a loaded
    // two-core machine running Chromium, the host and the proxy, and is still a fraction of the 30 to 45 s a page
    // without visible heartbeats took.
    private static readonly TimeSpan NoticeBound = TimeSpan.FromSeconds(10);

    // The automatic panel probes a more preferred technique every max(5 s, 4 x heartbeat), after backoff: 20 s is
    // several probes, and time for a fallback that waits out a silent stream first.
    private static readonly TimeSpan SettleBound = TimeSpan.FromSeconds(20);

    // How long a panel may take to show an event its technique can deliver (a 1 s short-poll interval, a poll cut short).
    private static readonly TimeSpan DeliveryBound = TimeSpan.FromSeconds(10);

    // Records, with the page's clock (the machine's, as the test's), when each panel's state, silences counter and
    // technique changed: the figures come from these stamps rather than from how often an expectation polls.
    private const string PathLogScript = """
        (() => {
          const log = window.__pathLog = [];
          const last = new Map();
          const note = (key, value) => {
            if (value === undefined || value === null || last.get(key) === value) return;
            last.set(key, value);
            log.push({ key, value, at: Date.now() });
          };
          new MutationObserver(() => {
            for (const panel of document.querySelectorAll('[data-transport]')) {
              const name = panel.dataset.transport;
              note(`${name}:state`, panel.dataset.state);
              note(`${name}:silences`, panel.querySelector('[data-counter="silences"]')?.textContent);
              if (name === 'auto') note('auto:current', panel.dataset.current);
            }
          }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
        })();
        """;

    private readonly KestrelApplication _app = new(new Dictionary<string, string?> { ["Realtime:HeartbeatInterval"] = "00:00:01" });
    private readonly List<WireEvent> _published = [];
    private readonly List<string> _pageErrors = [];
    private HttpClient? _publisher;
    private NginxProxy? _nginx;
    private PathProxy? _path;
    private IBrowserContext? _context;
    private IPage? _page;
    private long _openedAt;

    public async ValueTask DisposeAsync()
    {
        if (_page is not null && TestContext.Current.TestState?.Result == TestResult.Failed)
        {
            TestContext.Current.SendDiagnosticMessage($"The page when the test failed:\n{await DescribePageAsync()}");
        }

        if (_context is not null)
        {
            await _context.DisposeAsync();
        }

        if (_path is not null)
        {
            TestContext.Current.SendDiagnosticMessage($"Path proxy: {_path}");
            await _path.DisposeAsync();
        }

        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }

        _publisher?.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task BehindAProxyThatRefusesUpgradesTheAutomaticPanelEndsOnSse()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        _nginx = await NginxProxy.StartAsync(_app.BaseAddress, Locations("upgrades-refused.conf"), TimeSpan.FromSeconds(60), cancellationToken);
        var page = await OpenPageAsync(_nginx.Address);

        // Published while the automatic panel finds its way: the cursor it carries across the switch keeps them.
        await PublishAsync(5, cancellationToken);
        await ExpectCurrentAsync(page, "sse", SettleBound);
        await Assertions.Expect(Switches(page, from: "websocket", to: "sse", reason: "refused").First).ToBeAttachedAsync();
        await PublishAsync(5, cancellationToken);

        foreach (var panel in new[] { "auto", "sse", "long-poll", "short-poll" })
        {
            await ExpectEveryEventOnceAsync(page, panel);
        }

        // The fixed WebSocket panel shows the refusal: it never opens and nothing reaches it.
        await Assertions.Expect(Panel(page, "websocket")).Not.ToHaveAttributeAsync("data-state", "open");
        await Assertions.Expect(Panel(page, "websocket").Locator("li[data-seq]")).ToHaveCountAsync(0);
        await ExpectCurrentAsync(page, "sse", TimeSpan.Zero);

        await ReportSettlingAsync(page);
        Assert.Empty(_pageErrors);
    }

    [Fact]
    public async Task BehindAProxyThatAlsoBuffersStreamsTheAutomaticPanelEndsOnPolling()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        _nginx = await NginxProxy.StartAsync(_app.BaseAddress, Locations("buffering.conf"), TimeSpan.FromSeconds(60), cancellationToken);
        var page = await OpenPageAsync(_nginx.Address);

        await PublishAsync(5, cancellationToken);
        await ExpectCurrentAsync(page, Polling(), SettleBound);
        await PublishAsync(5, cancellationToken);

        foreach (var panel in new[] { "auto", "long-poll", "short-poll" })
        {
            await ExpectEveryEventOnceAsync(page, panel);
        }

        // Meanwhile the fixed SSE panel has shown none: its frames wait in the proxy's buffers. The WebSocket panel is
        // refused.
        await Assertions.Expect(Panel(page, "sse").Locator("li[data-seq]")).ToHaveCountAsync(0);
        await Assertions.Expect(Panel(page, "websocket").Locator("li[data-seq]")).ToHaveCountAsync(0);
        await ExpectCurrentAsync(page, Polling(), TimeSpan.Zero);

        await ReportSettlingAsync(page);
        TestContext.Current.SendDiagnosticMessage(
            $"Fixed SSE panel: {await Panel(page, "sse").GetAttributeAsync("data-state")}, " +
            $"silences {await CounterTextAsync(page, "sse", "silences")}, reconnects {await CounterTextAsync(page, "sse", "reconnects")}.");
        Assert.Empty(_pageErrors);
    }

    [Fact]
    public async Task BehindAProxyThatCutsIdleConnectionsEveryPanelStaysLive()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        _nginx = await NginxProxy.StartAsync(_app.BaseAddress, Locations("realtimedemo.conf", folder: "nginx"), ProxyReadTimeout, cancellationToken);
        var page = await OpenPageAsync(_nginx.Address);
        await ExpectCurrentAsync(page, "websocket", SettleBound);
        await PublishAsync(3, cancellationToken);
        foreach (var panel in AllPanels)
        {
            await ExpectEveryEventOnceAsync(page, panel);
        }

        // Idle past the proxy's read timeout, counted in the streams' own heartbeats: a whole heartbeat past it, as the
        // first may come at once.
        var idleSince = Stopwatch.StartNew();
        var heartbeats = (int)(ProxyReadTimeout / Heartbeat) + 2;
        var before = (Sse: await CounterAsync(page, "sse", "heartbeats"), WebSocket: await CounterAsync(page, "websocket", "heartbeats"));
        await Task.WhenAll(
            WaitForCounterAsync(page, "sse", "heartbeats", before.Sse + heartbeats, ProxyReadTimeout + NoticeBound),
            WaitForCounterAsync(page, "websocket", "heartbeats", before.WebSocket + heartbeats, ProxyReadTimeout + NoticeBound));

        var idle = idleSince.Elapsed;
        Assert.True(idle >= ProxyReadTimeout, $"Idle for {idle.TotalSeconds:0.0} s only.");
        await PublishAsync(3, cancellationToken);

        foreach (var panel in AllPanels)
        {
            await ExpectEveryEventOnceAsync(page, panel);
        }

        var report = new StringBuilder($"Idle {idle.TotalSeconds:0.0} s behind a {ProxyReadTimeout.TotalSeconds:0} s proxy_read_timeout; events lost: 0.");
        foreach (var panel in AllPanels)
        {
            report.Append($" {panel}: reconnects {await CounterTextAsync(page, panel, "reconnects")}, silences {await CounterTextAsync(page, panel, "silences")}.");
        }

        report.Append($" Automatic panel on {await Panel(page, "auto").GetAttributeAsync("data-current")}.");
        TestContext.Current.SendDiagnosticMessage(report.ToString());
        Assert.Empty(_pageErrors);
    }

    [Fact]
    public async Task OnAPathThatGoesSilentEveryPanelNoticesAndResumesWithNothingLost()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        _path = new PathProxy(_app.BaseAddress);
        var page = await OpenPageAsync(_path.Address);
        await ExpectCurrentAsync(page, "websocket", SettleBound);
        await PublishAsync(3, cancellationToken);
        foreach (var panel in AllPanels)
        {
            await ExpectEveryEventOnceAsync(page, panel);
        }

        var silencesBefore = new Dictionary<string, int>();
        foreach (var panel in AllPanels)
        {
            silencesBefore[panel] = await CounterAsync(page, panel, "silences");
        }

        var silencedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var silenced = _path.Silence();

        // Published into the silence: each panel must fetch them from its cursor once it has noticed.
        await PublishAsync(3, cancellationToken);
        await Task.WhenAll(AllPanels.Select(panel => WaitForCounterAsync(page, panel, "silences", silencesBefore[panel] + 1, NoticeBound)));
        await PublishAsync(3, cancellationToken);

        foreach (var panel in AllPanels)
        {
            await ExpectEveryEventOnceAsync(page, panel);
        }

        var log = await PathLogAsync(page);
        var report = new StringBuilder($"{silenced} connections silenced; time to notice (1 s heartbeat):");
        foreach (var panel in AllPanels)
        {
            var noticed = log.FirstOrDefault(entry => entry.Key == $"{panel}:silences" && entry.At >= silencedAt);
            report.Append($" {panel} {(noticed is null ? "?" : $"{noticed.At - silencedAt} ms")},");
        }

        report.Append($" events lost: 0. Automatic panel on {await Panel(page, "auto").GetAttributeAsync("data-current")}.");
        TestContext.Current.SendDiagnosticMessage(report.ToString());
        Assert.Empty(_pageErrors);
    }

    [Fact]
    public async Task WhenThePathAllowsUpgradesAgainTheAutomaticPanelMovesBackToWebSocket()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        _path = new PathProxy(_app.BaseAddress) { RefuseWebSocketUpgrades = true };
        var page = await OpenPageAsync(_path.Address);
        await ExpectCurrentAsync(page, "sse", SettleBound);
        await PublishAsync(3, cancellationToken);
        await ExpectEveryEventOnceAsync(page, "auto");

        var allowedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        _path.RefuseWebSocketUpgrades = false;

        // Published while it probes and moves: the cursor it carries up keeps them.
        await PublishAsync(3, cancellationToken);
        await ExpectCurrentAsync(page, "websocket", SettleBound);
        await Assertions.Expect(Switches(page, from: null, to: "websocket", reason: "preferred").First).ToBeAttachedAsync();
        await PublishAsync(3, cancellationToken);

        foreach (var panel in new[] { "auto", "sse", "long-poll", "short-poll" })
        {
            await ExpectEveryEventOnceAsync(page, panel);
        }

        var log = await PathLogAsync(page);
        var movedBack = log.Last(entry => entry.Key == "auto:current" && entry.Value == "websocket").At - allowedAt;
        TestContext.Current.SendDiagnosticMessage(
            $"Back on websocket {movedBack} ms after the path allowed upgrades ({_path.UpgradesRefused} refused before); " +
            $"events lost: 0. Switches: {await SwitchesTextAsync(page)}. Fixed WebSocket panel: " +
            $"{await Panel(page, "websocket").GetAttributeAsync("data-state")}.");
        Assert.Empty(_pageErrors);
    }

    private static string Locations(string file, string folder = "Browser/nginx") =>
        Path.Combine(AppContext.BaseDirectory, folder, file);

    private async Task<IPage> OpenPageAsync(Uri address)
    {
        _publisher = _app.CreateSocketClient();
        _context = await browser.NewContextAsync(address);
        await _context.AddInitScriptAsync(PathLogScript);
        var page = _page = await _context.NewPageAsync();
        page.PageError += (_, error) => _pageErrors.Add(error);

        _openedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-ready", "true");

        // Poll every second so the short-poll panel keeps up within the test's patience.
        await page.GetByLabel("Short-poll interval (s)").FillAsync("1");
        await page.GetByLabel("Short-poll interval (s)").DispatchEventAsync("change");
        return page;
    }

    private async Task PublishAsync(int count, CancellationToken cancellationToken) =>
        _published.AddRange(await _publisher!.PublishManyAsync(count, cancellationToken));

    private static ILocator Panel(IPage page, string transport) => page.Locator($"[data-transport=\"{transport}\"]");

    private static ILocator Switches(IPage page, string? from, string to, string reason) =>
        Panel(page, "auto").Locator(
            $"[data-field=switches] li{(from is null ? "" : $"[data-from=\"{from}\"]")}[data-to=\"{to}\"][data-reason=\"{reason}\"]");

    private static Task ExpectCurrentAsync(IPage page, string technique, TimeSpan within) =>
        ExpectCurrentAsync(page, new Regex($"^{Regex.Escape(technique)}$"), within);

    // TimeSpan.Zero: it holds now (Playwright's expectations still give it a moment).
    private static Task ExpectCurrentAsync(IPage page, Regex technique, TimeSpan within) =>
        Assertions.Expect(Panel(page, "auto")).ToHaveAttributeAsync("data-current", technique, new() { Timeout = Math.Max(Ms(within), 1_000) });

    /// <summary>Every event published so far shown once in <paramref name="panel"/>, and its counters agree.</summary>
    private async Task ExpectEveryEventOnceAsync(IPage page, string panel)
    {
        var root = Panel(page, panel);
        foreach (var published in _published)
        {
            await Assertions.Expect(root.Locator($"li[data-seq=\"{published.Seq}\"]")).ToHaveCountAsync(1, new() { Timeout = Ms(DeliveryBound) });
        }

        await Assertions.Expect(root.Locator("[data-counter=received]")).ToHaveTextAsync(_published.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(root.Locator("[data-counter=gaps]")).ToHaveTextAsync("0");
        await Assertions.Expect(root.Locator("[data-counter=duplicates]")).ToHaveTextAsync("0");
    }

    private static async Task<string> CounterTextAsync(IPage page, string panel, string counter) =>
        (await Panel(page, panel).Locator($"[data-counter=\"{counter}\"]").TextContentAsync())?.Trim() ?? "";

    private static async Task<int> CounterAsync(IPage page, string panel, string counter) =>
        int.Parse(await CounterTextAsync(page, panel, counter), System.Globalization.CultureInfo.InvariantCulture);

    // Playwright has no expectation of a number at least so large: the page checks the counter every 50 ms.
    private static Task WaitForCounterAsync(IPage page, string panel, string counter, int atLeast, TimeSpan within) =>
        page.WaitForFunctionAsync(
            "([panel, counter, atLeast]) => Number(document.querySelector(`[data-transport=\"${panel}\"] [data-counter=\"${counter}\"]`)?.textContent) >= atLeast",
            new object[] { panel, counter, atLeast },
            new() { Timeout = Ms(within), PollingInterval = 50 });

    private static int Ms(TimeSpan span) => (int)span.TotalMilliseconds;

    private static Regex Polling() => PollingTechnique();

    [GeneratedRegex("^(long-poll|short-poll)$")]
    private static partial Regex PollingTechnique();

    private sealed record PathLogEntry(string Key, string Value, long At);

    private static async Task<List<PathLogEntry>> PathLogAsync(IPage page)
    {
        var log = await page.EvaluateAsync<JsonElement>("() => window.__pathLog");
        return log.EnumerateArray()
            .Select(entry => new PathLogEntry(entry.GetProperty("key").GetString()!, entry.GetProperty("value").GetString()!, (long)entry.GetProperty("at").GetDouble()))
            .ToList();
    }

    private static async Task<string> SwitchesTextAsync(IPage page) =>
        string.Join("; ", await Panel(page, "auto").Locator("[data-field=switches] li").EvaluateAllAsync<string[]>(
            "items => items.map(li => `${li.dataset.from} -> ${li.dataset.to} (${li.dataset.reason})`)"));

    // How long the automatic panel took, from opening the page, to reach the technique it ended on.
    private async Task ReportSettlingAsync(IPage page)
    {
        var log = await PathLogAsync(page);
        var settled = log.Last(entry => entry.Key == "auto:current");
        TestContext.Current.SendDiagnosticMessage(
            $"Automatic panel settled on {settled.Value} {settled.At - _openedAt} ms after the page was opened; " +
            $"events lost: 0 of {_published.Count}. Switches: {await SwitchesTextAsync(page)}.");
    }

    // Each panel's state, technique, counters and newest items, for a failure's report.
    private async Task<string> DescribePageAsync()
    {
        try
        {
            return await _page!.EvaluateAsync<string>("""
                () => [...document.querySelectorAll('[data-transport]')].map(panel => [
                  `${panel.dataset.transport}: state=${panel.dataset.state} current=${panel.dataset.current ?? '-'}`,
                  [...panel.querySelectorAll('[data-counter]')].map(c => `${c.dataset.counter}=${c.textContent}`).join(' '),
                  [...panel.querySelectorAll('[data-field=switches] li')].map(li => `${li.dataset.from}->${li.dataset.to}(${li.dataset.reason})`).join(' '),
                  [...panel.querySelectorAll('[data-field=events] li')].slice(0, 8).map(li => li.dataset.seq ?? li.textContent).join(' | '),
                ].join('\n  ')).join('\n')
                """);
        }
        catch (PlaywrightException exception)
        {
            return $"(not readable: {exception.Message})";
        }
    }
}
