using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Browser;

/// <summary>
/// The page in a real Chromium on a host that requires reader tokens of 5 s: signed in with a name, every panel reads
/// through several token lifetimes with no gap and no duplicate, whether each technique renews its token ahead of
/// expiry its own way or lets it run out and signs in again.
/// </summary>
public sealed partial class SignedInPageTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncDisposable
{
    private static readonly string[] Panels = ["auto", "short-poll", "long-poll", "sse", "websocket"];

    // The shortest lifetime a host allows, so that two lifetimes pass in seconds.
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(5);

    private readonly KestrelApplication _app = new(new Dictionary<string, string?>
    {
        ["Realtime:RequireReaderToken"] = "true",
        ["Realtime:TokenSigningKey"] = "the-signed-in-page-tests-signing-key-0123456789",
        ["Realtime:TokenLifetime"] = "00:00:05",
        ["Realtime:HeartbeatInterval"] = "00:00:02",
    });

    private readonly List<string> _pageErrors = [];
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
    public async Task EveryPanelReadsThroughTwoTokenLifetimesRenewingAheadOfExpiry()
    {
        var page = await SignInAsync(letTokensExpire: false);

        // Each panel holds a new token at least twice: the polls send it on the next request, SSE reconnects with it,
        // the WebSocket refreshes it in place.
        var published = await PublishUntilAsync(page, async () =>
        {
            foreach (var panel in Panels)
            {
                if (await CountAsync(page, panel, "tokens") < 3)
                {
                    return false;
                }
            }

            return true;
        });

        await ExpectEveryEventOnceAsync(page, published);

        // Renewed ahead of time, no long-lived connection was ended by its token's expiry.
        foreach (var panel in Panels)
        {
            Assert.Equal(0, await CountAsync(page, panel, "expiries"));
        }

        // In place: the WebSocket panel's one socket carried it all (the automatic panel's is the other).
        using var client = _app.CreateSocketClient();
        var webSockets = await client.TransportStatsAsync("websocket", TestClients.Deadline());
        Assert.Equal(2, webSockets.GetProperty("requests").GetInt64());
        Assert.Empty(_pageErrors);
    }

    [Fact]
    public async Task WhenTokensRunOutEachTechniqueSignsInAgainAndResumesWithNothingLost()
    {
        var page = await SignInAsync(letTokensExpire: true);

        // The host ends the SSE stream and closes the WebSockets at each expiry; each signs in again and resumes.
        var published = await PublishUntilAsync(page, async () =>
            await CountAsync(page, "sse", "expiries") >= 2
            && await CountAsync(page, "websocket", "expiries") >= 2
            && await CountAsync(page, "auto", "expiries") >= 2);

        await ExpectEveryEventOnceAsync(page, published);
        foreach (var panel in new[] { "sse", "websocket" })
        {
            await Assertions.Expect(Panel(page, panel).Locator("li.signal", new() { HasText = "token expired" }).First).ToBeVisibleAsync();
        }

        Assert.Empty(_pageErrors);
    }

    [Fact]
    public async Task ABadNameIsRefusedAndThePageWaitsForAGoodOne()
    {
        var page = await OpenAsync();
        await page.GetByLabel("Your name").FillAsync(" ");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.Locator("#sign-in-status")).ToContainTextAsync("refused");
        Assert.Null(await page.Locator("body").GetAttributeAsync("data-ready"));

        await page.GetByLabel("Your name").FillAsync("ada");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-ready", "true");
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-signed-in", "ada");
    }

    private async Task<IPage> OpenAsync()
    {
        _context = await browser.NewContextAsync(_app.BaseAddress);
        var page = await _context.NewPageAsync();
        page.PageError += (_, error) => _pageErrors.Add(error);
        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator("#sign-in-form")).ToBeVisibleAsync();
        return page;
    }

    private async Task<IPage> SignInAsync(bool letTokensExpire)
    {
        var page = await OpenAsync();
        if (letTokensExpire)
        {
            await page.GetByLabel("Let tokens expire").CheckAsync();
        }

        await page.GetByLabel("Your name").FillAsync("ada");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-ready", "true");
        await page.GetByLabel("Short-poll interval (s)").FillAsync("1");
        await page.GetByLabel("Short-poll interval (s)").DispatchEventAsync("change");
        foreach (var panel in Panels)
        {
            await Assertions.Expect(Panel(page, panel).Locator("[data-field=state]")).ToHaveTextAsync(ConnectedState());
        }

        return page;
    }

    /// <summary>
    /// Publishes chat events one at a time, each once every panel shows the last, until <paramref name="done"/> holds
    /// and at least two token lifetimes have passed; the publisher signs in for each (its tokens expire too).
    /// </summary>
    private async Task<List<WireEvent>> PublishUntilAsync(IPage page, Func<Task<bool>> done)
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        using var client = _app.CreateSocketClient();
        var published = new List<WireEvent>();
        var running = Stopwatch.StartNew();
        while (running.Elapsed < 2 * Lifetime || !await done())
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/events")
            {
                Content = JsonContent.Create(new { type = "chat", data = new { text = $"message {published.Count + 1}" } }),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(client, "publisher", cancellationToken));
            using var response = await client.SendAsync(request, cancellationToken);
            Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
            var evt = (await response.Content.ReadFromJsonAsync<WireEvent>(TestClients.Json, cancellationToken))!;
            published.Add(evt);
            foreach (var panel in Panels)
            {
                await Assertions.Expect(Panel(page, panel).Locator($"li[data-seq=\"{evt.Seq}\"]")).ToHaveCountAsync(1);
            }
        }

        TestContext.Current.SendDiagnosticMessage(
            $"{published.Count} events over {running.Elapsed.TotalSeconds:F1} s; tokens per panel: "
            + string.Join(", ", await Task.WhenAll(Panels.Select(async panel =>
                $"{panel} {await CountAsync(page, panel, "tokens")} (expiries {await CountAsync(page, panel, "expiries")})"))));
        return published;
    }

    private static async Task<string> TokenAsync(HttpClient client, string name, CancellationToken cancellationToken)
    {
        using var response = await client.PostAsJsonAsync("/api/token", new { name }, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return body.RootElement.GetProperty("token").GetString()!;
    }

    private static async Task ExpectEveryEventOnceAsync(IPage page, List<WireEvent> published)
    {
        foreach (var panel in Panels)
        {
            var locator = Panel(page, panel);
            await Assertions.Expect(locator.Locator("[data-counter=received]")).ToHaveTextAsync(published.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await Assertions.Expect(locator.Locator("[data-counter=gaps]")).ToHaveTextAsync("0");
            await Assertions.Expect(locator.Locator("[data-counter=duplicates]")).ToHaveTextAsync("0");

            // The host stamped each with the publisher's name, which the page shows as who said it.
            await Assertions.Expect(locator.Locator($"li[data-seq=\"{published[^1].Seq}\"] .text")).ToHaveTextAsync($"publisher: message {published.Count}");
        }
    }

    private static async Task<int> CountAsync(IPage page, string panel, string attribute) =>
        int.TryParse(await Panel(page, panel).GetAttributeAsync($"data-{attribute}"), out var count) ? count : 0;

    private static ILocator Panel(IPage page, string transport) => page.Locator($"[data-transport=\"{transport}\"]");

    [GeneratedRegex("^(open|waiting)$")]
    private static partial Regex ConnectedState();
}
