using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Browser;

/// <summary>
/// The live page in a real Chromium against the host on real Kestrel: the five panels (the automatic one and the four
/// fixed ones) agree event for event, recover from dropped connections without a gap, carry the page's own publishes,
/// and never run event text.
/// </summary>
public sealed partial class LivePageTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncDisposable
{
    private static readonly string[] Transports = ["auto", "short-poll", "long-poll", "sse", "websocket"];

    // Heartbeats at a pace a busy machine keeps easily: the page watches every path at twice it.
    private static readonly Dictionary<string, string?> Settings = new() { ["Realtime:HeartbeatInterval"] = "00:00:05" };

    private KestrelApplication _app = new(Settings);
    private readonly List<string> _pageErrors = [];
    private readonly List<string> _consoleErrors = [];
    private IBrowserContext? _context;

    public async ValueTask DisposeAsync()
    {
        if (_context is not null)
        {
            await _context.DisposeAsync();
        }

        await _app.DisposeAsync();
    }

    [Fact]
    public async Task EveryPanelShowsEveryPublishedEventWithoutGapsOrDuplicates()
    {
        var page = await OpenPageAsync();
        using var client = _app.CreateSocketClient();

        var published = await client.PublishManyAsync(20, TestClients.Deadline());

        foreach (var transport in Transports)
        {
            await ExpectEventsAsync(page, transport, published);
            await ExpectCounterAsync(page, transport, "received", "20");
            await ExpectCounterAsync(page, transport, "gaps", "0");
            await ExpectCounterAsync(page, transport, "duplicates", "0");
        }

        AssertNoErrors();
        await SaveScreenshotsAsync(page, "all-panels");
    }

    [Fact]
    public async Task AShorterPollIntervalAppliesToTheWaitUnderWay()
    {
        var page = await OpenPageAsync();
        using var client = _app.CreateSocketClient();
        var panel = Panel(page, "short-poll");
        var interval = page.GetByLabel("Short-poll interval (s)");

        // A 30 s interval, and a poll just made: the panel waits 30 s for its next.
        await interval.FillAsync("30");
        await interval.DispatchEventAsync("change");
        await panel.Locator("[data-action=toggle]").ClickAsync();
        await Assertions.Expect(panel.Locator("[data-field=state]")).ToHaveTextAsync("closed");
        await panel.Locator("[data-action=toggle]").ClickAsync();
        await Assertions.Expect(panel.Locator("[data-field=state]")).ToHaveTextAsync("waiting");

        // Back to 1 s: the next poll comes a second after the last, not when the 30 s are up.
        await interval.FillAsync("1");
        await interval.DispatchEventAsync("change");
        var published = await client.PublishAsync("test", new { after = "the change" }, TestClients.Deadline());

        await Assertions.Expect(panel.Locator($"li[data-seq=\"{published.Seq}\"]")).ToHaveCountAsync(1, new() { Timeout = 10_000 });
        AssertNoErrors();
    }

    [Fact]
    public async Task EveryPanelRecoversFromADroppedConnectionWithNothingLost()
    {
        var page = await OpenPageAsync();
        using var client = _app.CreateSocketClient();
        var cancellationToken = TestClients.Deadline(Deadlines.Load);

        // On an open path the automatic panel reads by WebSocket, beside the WebSocket panel: two sockets.
        await Assertions.Expect(Panel(page, "auto")).ToHaveAttributeAsync("data-current", "websocket");
        foreach (var transport in Transports)
        {
            var panel = Panel(page, transport);
            var technique = transport == "auto" ? "websocket" : transport;
            var connectionsBefore = (await client.TransportStatsAsync(technique, cancellationToken)).GetProperty("requests").GetInt64();
            await panel.Locator("[data-action=drop]").ClickAsync();

            // Published while the panel is down: it must catch up from its cursor once it reconnects.
            var meanwhile = await client.PublishManyAsync(3, cancellationToken);

            await ExpectEventsAsync(page, transport, meanwhile);
            await Assertions.Expect(panel.Locator("[data-counter=reconnects]")).Not.ToHaveTextAsync("0");
            if (technique is "sse" or "websocket")
            {
                // The stream was really cut and opened again, once: the events came over a new connection, from its cursor.
                Assert.Equal(connectionsBefore + 1, (await client.TransportStatsAsync(technique, cancellationToken)).GetProperty("requests").GetInt64());
                await client.WaitForOpenConnectionsAsync(technique, technique == "websocket" ? 2 : 1, cancellationToken);
            }
        }

        // A drop is not a failure of the technique: the automatic panel stayed on WebSocket and never switched.
        await Assertions.Expect(Panel(page, "auto")).ToHaveAttributeAsync("data-current", "websocket");
        Assert.Equal(0, await Panel(page, "auto").Locator("[data-field=switches] li").CountAsync());

        foreach (var transport in Transports)
        {
            await ExpectCounterAsync(page, transport, "received", "15"); // three for each of the five drops
            await ExpectCounterAsync(page, transport, "gaps", "0");
            await ExpectCounterAsync(page, transport, "duplicates", "0");
        }

        AssertNoErrors();
    }

    [Theory]
    [InlineData("websocket")]
    [InlineData("http")]
    public async Task MessageFromThePublishBoxReachesEveryPanel(string via)
    {
        var page = await OpenPageAsync();
        var text = $"hello via {via}";

        await page.GetByLabel("Message").FillAsync(text);
        await page.GetByLabel("via").SelectOptionAsync(via);
        await page.GetByRole(AriaRole.Button, new() { Name = "Publish" }).ClickAsync();

        foreach (var transport in Transports)
        {
            await Assertions.Expect(Panel(page, transport).Locator("li[data-type=chat] .text")).ToHaveTextAsync(text);
        }

        AssertNoErrors();
    }

    [Fact]
    public async Task WhereAPublishKeyIsSetThePageAsksForItAndPublishesWithIt()
    {
        const string Key = "a-publish-key-for-the-page";
        await _app.DisposeAsync();
        _app = new KestrelApplication(new Dictionary<string, string?>(Settings) { ["Realtime:PublishKey"] = Key });
        var page = await OpenPageAsync();
        var keyField = page.GetByLabel("Publish key");
        await Assertions.Expect(keyField).ToBeVisibleAsync();

        // Without the key, the host refuses and the page says so.
        await page.GetByLabel("Message").FillAsync("no key");
        await page.GetByLabel("via").SelectOptionAsync("http");
        await page.GetByRole(AriaRole.Button, new() { Name = "Publish" }).ClickAsync();
        await Assertions.Expect(page.Locator("#publish-status")).ToContainTextAsync("refused (401)");

        // With it, both ways publish: POST as a bearer token, the socket (reconnected with it) as ?token=.
        await keyField.FillAsync(Key);
        await keyField.DispatchEventAsync("change");
        await Assertions.Expect(Panel(page, "websocket").Locator("[data-field=state]")).ToHaveTextAsync(ConnectedState());
        foreach (var via in new[] { "http", "websocket" })
        {
            var text = $"with the key via {via}";
            await page.GetByLabel("Message").FillAsync(text);
            await page.GetByLabel("via").SelectOptionAsync(via);
            await page.GetByRole(AriaRole.Button, new() { Name = "Publish" }).ClickAsync();
            foreach (var transport in Transports)
            {
                await Assertions.Expect(Panel(page, transport).Locator("li[data-type=chat] .text", new() { HasText = text })).ToHaveCountAsync(1);
            }
        }

        // A socket the visitor disconnected is not reconnected by a new key.
        var webSocketPanel = Panel(page, "websocket");
        await webSocketPanel.Locator("[data-action=toggle]").ClickAsync();
        await Assertions.Expect(webSocketPanel.Locator("[data-field=state]")).ToHaveTextAsync("closed");
        using var publisher = _app.CreateSocketClient();
        publisher.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        await publisher.WaitForOpenConnectionsAsync("websocket", 1, TestClients.Deadline()); // the automatic panel's
        var upgradesBefore = (await publisher.TransportStatsAsync("websocket", TestClients.Deadline())).GetProperty("requests").GetInt64();
        await keyField.FillAsync(Key + "-changed");
        await keyField.DispatchEventAsync("change");

        // A round trip through the page (an event reaching its SSE panel) gives a reconnect time to show; none has, not
        // even one that closed again: the host saw no new upgrade.
        var published = await publisher.PublishAsync("test", new { after = "the key changed" }, TestClients.Deadline());
        await Assertions.Expect(Panel(page, "sse").Locator($"li[data-seq=\"{published.Seq}\"]")).ToHaveCountAsync(1);
        Assert.Equal("closed", await webSocketPanel.Locator("[data-field=state]").TextContentAsync());
        var after = await publisher.TransportStatsAsync("websocket", TestClients.Deadline());
        Assert.Equal(upgradesBefore, after.GetProperty("requests").GetInt64());
        Assert.Equal(1, after.GetProperty("open").GetInt64()); // the automatic panel's

        // The refused POST is the one error the browser logs.
        Assert.Empty(_pageErrors);
        Assert.All(_consoleErrors, error => Assert.Contains("401", error, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutAPublishKeyThePageDoesNotAskForOne()
    {
        var page = await OpenPageAsync();
        await Assertions.Expect(page.GetByLabel("Publish key")).ToBeHiddenAsync();
        AssertNoErrors();
    }

    [Fact]
    public async Task WithoutReaderTokensThePageDoesNotAskForAName()
    {
        var page = await OpenPageAsync();
        await Assertions.Expect(page.Locator("#sign-in-form")).ToBeHiddenAsync();
        await Assertions.Expect(Panel(page, "sse").Locator("[data-field=token]")).ToBeHiddenAsync();
        AssertNoErrors();
    }

    [Fact]
    public async Task MarkupInEventTextIsShownAsTextAndNeverRuns()
    {
        var page = await OpenPageAsync();
        using var client = _app.CreateSocketClient();
        const string Markup = "<img src=x onerror=\"window.__injected = true\"><script>window.__injected = true</script><b>bold</b>";

        await client.PublishAsync("chat", new { text = Markup }, TestClients.Deadline());

        foreach (var transport in Transports)
        {
            var panel = Panel(page, transport);
            await Assertions.Expect(panel.Locator("li[data-type=chat] .text")).ToHaveTextAsync(Markup);
            Assert.Equal(0, await panel.Locator(".events img, .events script, .events b").CountAsync());
        }

        Assert.Null(await page.EvaluateAsync<bool?>("() => window.__injected ?? null"));
        AssertNoErrors();
    }

    [Fact]
    public async Task PanelsShowTheGapSignalWhenTheHostRestartsAndCarryOn()
    {
        var page = await OpenPageAsync();
        var address = _app.BaseAddress;

        // The same address, a new process's worth of state: the in-memory log starts a new epoch.
        await _app.DisposeAsync();
        _app = new KestrelApplication(Settings, port: address.Port);
        using var client = _app.CreateSocketClient();
        var afterRestart = await client.PublishManyAsync(2, TestClients.Deadline());

        foreach (var transport in Transports)
        {
            var panel = Panel(page, transport);
            await ExpectEventsAsync(page, transport, afterRestart);
            await Assertions.Expect(panel.Locator("li.signal", new() { HasText = "gap signal" }).First).ToBeVisibleAsync();
            await ExpectCounterAsync(page, transport, "duplicates", "0");
        }

        // The browser logs the refused connections of the outage; the page itself must not throw.
        Assert.Empty(_pageErrors);
    }

    private async Task<IPage> OpenPageAsync()
    {
        _context = await browser.NewContextAsync(_app.BaseAddress);
        var page = await _context.NewPageAsync();
        page.PageError += (_, error) => _pageErrors.Add(error);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                _consoleErrors.Add($"{message.Text} ({message.Location})");
            }
        };

        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-ready", "true");

        // Poll every second so the short-poll panel keeps up within the test's patience.
        await page.GetByLabel("Short-poll interval (s)").FillAsync("1");
        await page.GetByLabel("Short-poll interval (s)").DispatchEventAsync("change");
        foreach (var transport in Transports)
        {
            await Assertions.Expect(Panel(page, transport).Locator("[data-field=state]")).ToHaveTextAsync(ConnectedState());
        }

        return page;
    }

    // No uncaught exception in the page, and nothing it logged as an error.
    private void AssertNoErrors()
    {
        Assert.Empty(_pageErrors);
        Assert.Empty(_consoleErrors);
    }

    private static ILocator Panel(IPage page, string transport) => page.Locator($"[data-transport=\"{transport}\"]");

    private static async Task ExpectEventsAsync(IPage page, string transport, IReadOnlyList<WireEvent> events)
    {
        var panel = Panel(page, transport);
        foreach (var published in events)
        {
            await Assertions.Expect(panel.Locator($"li[data-seq=\"{published.Seq}\"]")).ToHaveCountAsync(1);
        }
    }

    private static Task ExpectCounterAsync(IPage page, string transport, string counter, string value) =>
        Assertions.Expect(Panel(page, transport).Locator($"[data-counter=\"{counter}\"]")).ToHaveTextAsync(value);

    private static async Task SaveScreenshotsAsync(IPage page, string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        foreach (var (label, width, height) in new[] { ("wide", 1440, 900), ("phone", 390, 844) })
        {
            await page.SetViewportSizeAsync(width, height);
            var path = Path.Combine(folder, $"{name}-{label}-{width}x{height}.png");
            await page.ScreenshotAsync(new() { Path = path, FullPage = label == "phone" });
            TestContext.Current.AddAttachment($"{name}-{label}.png", await File.ReadAllBytesAsync(path), "image/png");
            TestContext.Current.SendDiagnosticMessage($"Screenshot saved: {path}");
        }
    }

    [GeneratedRegex("^(open|waiting)$")]
    private static partial Regex ConnectedState();
}
