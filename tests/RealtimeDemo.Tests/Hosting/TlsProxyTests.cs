using System.Net;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Net.WebSockets;
using RealtimeDemo.Hosting;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Hosting;

/// <summary>
/// The compose path browsers use: real nginx on loopback terminating TLS with HTTP/2 (as deploy/nginx.conf's HTTPS
/// server does), running the project's own location blocks with proxy_read_timeout cut to 5 s, in front of the host
/// over plain HTTP/1.1. Clients trust the proxy's certificate only and negotiate the protocol by ALPN, as browsers do.
/// </summary>
public sealed class TlsProxyTests : IAsyncDisposable
{
    private static readonly TimeSpan ProxyReadTimeout = TimeSpan.FromSeconds(5);
    private static readonly string ProjectConfig = Path.Combine(AppContext.BaseDirectory, "nginx", "realtimedemo.conf");

    // A buffering proxy holds a lone event until its buffer fills, which 1 s heartbeats take minutes to do.
    private static readonly TimeSpan Promptly = TimeSpan.FromSeconds(5);

    private readonly LogCapture _logs = new();
    private readonly KestrelApplication _app;
    private NginxProxy? _proxy;

    public TlsProxyTests() => _app = new KestrelApplication(
        new Dictionary<string, string?>
        {
            // Heartbeats and pings well inside the proxy's 5 s idle limit.
            ["Realtime:HeartbeatInterval"] = "00:00:01",
            ["Realtime:WebSocketKeepAliveInterval"] = "00:00:01",
            ["Realtime:WebSocketKeepAliveTimeout"] = "00:00:05",
            ["Serilog:MinimumLevel:Override:Serilog.AspNetCore.RequestLoggingMiddleware"] = "Information",
        },
        services: _logs.Register);

    public async ValueTask DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        await _app.DisposeAsync();
    }

    [Fact]
    public async Task SseOverHttp2ArrivesEventByEventThroughTheProxy()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        var proxy = await StartProxyAsync();
        using var direct = _app.CreateSocketClient();
        using var client = CreateClient(proxy);
        var start = await direct.HeadCursorAsync(cancellationToken);
        using var stream = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var (response, sse) = await client.OpenSseAsync($"/api/sse?after={start}", stream.Token);
        using var _ = response;
        Assert.Equal(HttpVersion.Version20, response.Version);
        await direct.WaitForOpenConnectionsAsync("sse", 1, cancellationToken);

        // Each event must arrive on its own, while the stream stays open, before the next one is published.
        for (var i = 0; i < 3; i++)
        {
            var published = await direct.PublishAsync("chat", new { n = i }, cancellationToken);
            stream.CancelAfter(Promptly);
            Assert.Equal(published.Id, (await sse.ReadSseAsync(1)).Single(item => item.EventType == SseParser.EventTypeDefault).EventId);
        }
    }

    [Fact]
    public async Task SseResumesFromLastEventIdOverHttp2ThroughTheProxy()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        var proxy = await StartProxyAsync();
        using var client = CreateClient(proxy);
        var published = await client.PublishManyAsync(5, cancellationToken);

        var (response, sse) = await client.OpenSseAsync("/api/sse", cancellationToken, lastEventId: published[1].Id);
        using var _ = response;

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(published[2..].Select(e => e.Id), (await sse.ReadSseAsync(3)).Select(item => item.EventId));
    }

    /// <summary>
    /// nginx does not offer WebSockets over HTTP/2 (RFC 8441): a client that asks for HTTP/2 falls back to an
    /// HTTP/1.1 upgrade, as browsers do, and either way the socket works through TLS termination.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task AWebSocketUpgradesThroughTlsTerminationReceivesPublishesAndResumes(int major)
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        var proxy = await StartProxyAsync();
        using var client = CreateClient(proxy);
        using var invoker = new HttpMessageInvoker(proxy.CreateHandler());

        Uri resume;
        var version = major == 2 ? HttpVersion.Version20 : HttpVersion.Version11;
        using (var socket = await ConnectWebSocketAsync(proxy.WebSocketUri("/ws"), invoker, cancellationToken, version))
        {
            Assert.Equal(HttpStatusCode.SwitchingProtocols, socket.HttpStatusCode);
            Assert.Equal("welcome", (await socket.ReceiveJsonAsync(cancellationToken))?.GetProperty("control").GetString());

            var published = await client.PublishAsync("test", new { n = 1 }, cancellationToken);
            Assert.Equal(published.Seq, Assert.Single(await socket.ReceiveEventsWithoutGapAsync(1, cancellationToken)).Seq);

            var message = new { type = "publish", @event = new { type = "chat", data = new { text = "via nginx over TLS" } } };
            await socket.SendJsonAsync(message, cancellationToken);
            var echoed = Assert.Single(await socket.ReceiveEventsWithoutGapAsync(1, cancellationToken));
            Assert.Equal(("chat", published.Seq + 1), (echoed.Type, echoed.Seq));
            resume = proxy.WebSocketUri($"/ws?after={echoed.Id}");
        }

        // Published while no socket is open: the next one resumes from its cursor and gets exactly these.
        var meanwhile = await client.PublishManyAsync(3, cancellationToken);
        using var resumed = await ConnectWebSocketAsync(resume, invoker, cancellationToken);
        Assert.Equal(meanwhile.Select(e => e.Seq), (await resumed.ReceiveEventsAsync(3, cancellationToken)).Select(e => e.Seq));
    }

    [Fact]
    public async Task ALongPollIsHeldOverHttp2ThroughTheProxy()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        var proxy = await StartProxyAsync();
        using var direct = _app.CreateSocketClient();
        using var client = CreateClient(proxy);
        var start = await direct.HeadCursorAsync(cancellationToken);

        var held = client.GetAsync($"/api/longpoll?after={start}&timeout=3", cancellationToken);
        await direct.WaitForOpenConnectionsAsync("long-poll", 1, cancellationToken);
        var published = await direct.PublishAsync("chat", new { text = "poll me" }, cancellationToken);

        using var response = await held;
        Assert.Equal(HttpVersion.Version20, response.Version);
        var body = await response.Content.ReadFromJsonAsync<PollBody>(TestClients.Json, cancellationToken);
        Assert.Equal(published.Id, Assert.Single(body!.Events).Id);
    }

    [Fact]
    public async Task HeartbeatsKeepIdleStreamsOpenPastTheProxyReadTimeoutOverTls()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        var proxy = await StartProxyAsync();
        using var client = CreateClient(proxy);
        using var invoker = new HttpMessageInvoker(proxy.CreateHandler());

        await ReverseProxyTests.AssertIdleStreamsOutliveTheProxyTimeoutAsync(
            client,
            pathAndQuery => ConnectWebSocketAsync(proxy.WebSocketUri(pathAndQuery), invoker, cancellationToken),
            HttpVersion.Version20,
            cancellationToken);
    }

    /// <summary>
    /// The host trusts its loopback proxy's X-Forwarded-Proto: its request log says https. A page served through the
    /// proxy under a public name upgrades with that page's https origin and is let in; another site's page is not.
    /// </summary>
    [Fact]
    public async Task TheForwardedSchemeAndTheBrowsersOriginAreBelieved()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        var proxy = await StartProxyAsync();
        using var client = CreateClient(proxy);

        using var health = await client.GetAsync("/healthz", cancellationToken);
        Assert.Equal((HttpStatusCode.OK, HttpVersion.Version20), (health.StatusCode, health.Version));
        // The request's log line is written as the request completes, which may be after the client has the response.
        var logged = await _logs.WaitForAsync(
            e => e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal)
                && e.Properties.TryGetValue("RequestPath", out var path) && path.ToString() == "\"/healthz\"",
            cancellationToken);
        Assert.Equal("\"https\"", logged.Properties["Scheme"].ToString());

        // Not loopback, so only the host's own origin (the Host nginx passes on, port included) lets it in.
        var site = $"realtimedemo.example:{proxy.Address.Port}";
        using var invoker = new HttpMessageInvoker(proxy.CreateHandler());
        var uri = new Uri($"wss://{site}/ws");
        using (var accepted = await ConnectWebSocketAsync(uri, invoker, cancellationToken, origin: $"https://{site}"))
        {
            Assert.Equal(HttpStatusCode.SwitchingProtocols, accepted.HttpStatusCode);
            Assert.Equal("welcome", (await accepted.ReceiveJsonAsync(cancellationToken))?.GetProperty("control").GetString());
        }

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() =>
            ConnectWebSocketAsync(uri, invoker, cancellationToken, origin: "https://elsewhere.example"));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    private async Task<NginxProxy> StartProxyAsync() => _proxy = await NginxProxy.StartAsync(
        _app.BaseAddress,
        ProjectConfig,
        ProxyReadTimeout,
        TestClients.Deadline(),
        DevelopmentHttpsExtensions.CreateLocalhostCertificate(DateTimeOffset.UtcNow));

    /// <summary>As a browser: HTTP/2 where ALPN agrees on it, HTTP/1.1 otherwise.</summary>
    private static HttpClient CreateClient(NginxProxy proxy) => new(proxy.CreateHandler())
    {
        BaseAddress = proxy.Address,
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
    };

    /// <summary>
    /// Opens a WebSocket through <paramref name="invoker"/>, asking for <paramref name="version"/> (HTTP/1.1 unless
    /// told) or lower, with a browser's <c>Origin</c> where given. A handshake answered with an error status throws
    /// <see cref="HttpRequestException"/> carrying that status.
    /// </summary>
    private static Task<ClientWebSocket> ConnectWebSocketAsync(
        Uri uri, HttpMessageInvoker invoker, CancellationToken cancellationToken, Version? version = null, string? origin = null)
    {
        return new ClientWebSocket().HandshakeAsync(socket =>
        {
            socket.Options.HttpVersion = version ?? HttpVersion.Version11;
            socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionOrLower;
            if (origin is not null)
            {
                socket.Options.SetRequestHeader("Origin", origin);
            }

            return socket.ConnectAsync(uri, invoker, cancellationToken);
        });
    }
}
