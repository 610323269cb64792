using System.Net;
using System.Net.ServerSentEvents;
using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using RealtimeDemo.Hosting;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Hosting;

/// <summary>
/// The production path: real nginx on loopback in front of the host, running the project's own location blocks
/// (deploy/nginx/realtimedemo.conf) with proxy_read_timeout cut to 5 s, against a deliberately naive configuration
/// that the same checks must catch.
/// </summary>
public sealed class ReverseProxyTests : IAsyncDisposable
{
    private static readonly TimeSpan ProxyReadTimeout = TimeSpan.FromSeconds(5);
    private static readonly string ProjectConfig = Path.Combine(AppContext.BaseDirectory, "nginx", "realtimedemo.conf");
    private static readonly string NaiveConfig = Path.Combine(AppContext.BaseDirectory, "nginx", "naive.conf");

    // A buffering proxy holds a lone event until its buffer fills, which 1 s heartbeats take minutes to do: 5 s tells
    // the two apart with room for a loaded machine.
    private static readonly TimeSpan Promptly = TimeSpan.FromSeconds(5);

    // Heartbeats and pings well inside the proxy's 5 s idle limit.
    private readonly KestrelApplication _app = new(new Dictionary<string, string?>
    {
        ["Realtime:HeartbeatInterval"] = "00:00:01",
        ["Realtime:WebSocketKeepAliveInterval"] = "00:00:01",
        ["Realtime:WebSocketKeepAliveTimeout"] = "00:00:05",
    });

    private NginxProxy? _proxy;

    public async ValueTask DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        await _app.DisposeAsync();
    }

    [Fact]
    public async Task SseEventArrivesThroughTheProxyWithoutWaitingForMore()
    {
        var proxy = await StartProxyAsync(ProjectConfig);

        Assert.True(await SseEventArrivesWithinAsync(proxy, Promptly), proxy.ErrorLog);
    }

    [Fact]
    public async Task NaiveProxyHoldsTheSseEventBack()
    {
        var proxy = await StartProxyAsync(NaiveConfig);

        Assert.False(await SseEventArrivesWithinAsync(proxy, Promptly));
    }

    [Fact]
    public async Task SseResumesFromLastEventIdThroughTheProxy()
    {
        var cancellationToken = TestClients.Deadline();
        var proxy = await StartProxyAsync(ProjectConfig);
        using var client = new HttpClient { BaseAddress = proxy.Address };
        var published = await client.PublishManyAsync(5, cancellationToken);

        var (response, sse) = await client.OpenSseAsync("/api/sse", cancellationToken, lastEventId: published[1].Id);
        using var _ = response;

        Assert.Equal(published[2..].Select(e => e.Id), (await sse.ReadSseAsync(3)).Select(item => item.EventId));
    }

    [Fact]
    public async Task WebSocketUpgradesPublishesAndResumesThroughTheProxy()
    {
        var cancellationToken = TestClients.Deadline();
        var proxy = await StartProxyAsync(ProjectConfig);

        Uri cursor;
        using (var socket = new ClientWebSocket())
        {
            await socket.ConnectAsync(proxy.WebSocketUri("/ws"), cancellationToken);
            Assert.Equal("welcome", (await socket.ReceiveJsonAsync(cancellationToken))?.GetProperty("control").GetString());
            await socket.SendJsonAsync(new { type = "publish", @event = new { type = "chat", data = new { text = "via nginx" } } }, cancellationToken);
            var first = Assert.Single(await socket.ReceiveEventsAsync(1, cancellationToken));
            cursor = proxy.WebSocketUri($"/ws?after={first.Id}");
        }

        // Published while no socket is open: the next one resumes from its cursor and gets exactly these.
        using var client = new HttpClient { BaseAddress = proxy.Address };
        var meanwhile = await client.PublishManyAsync(3, cancellationToken);
        using var resumed = new ClientWebSocket();
        await resumed.ConnectAsync(cursor, cancellationToken);

        Assert.Equal(meanwhile.Select(e => e.Seq), (await resumed.ReceiveEventsAsync(3, cancellationToken)).Select(e => e.Seq));
    }

    [Fact]
    public async Task NaiveProxyBreaksTheWebSocketUpgrade()
    {
        var proxy = await StartProxyAsync(NaiveConfig);
        using var socket = new ClientWebSocket();

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(proxy.WebSocketUri("/ws"), TestClients.Deadline()));
    }

    [Fact]
    public async Task PollsWorkThroughTheProxy()
    {
        var cancellationToken = TestClients.Deadline();
        var proxy = await StartProxyAsync(ProjectConfig);
        using var client = new HttpClient { BaseAddress = proxy.Address };
        var start = await client.HeadCursorAsync(cancellationToken);

        var held = client.PollAsync($"/api/longpoll?after={start}&timeout=3", cancellationToken);
        var published = await client.PublishAsync("chat", new { text = "poll me" }, cancellationToken);

        Assert.Equal(published.Id, Assert.Single((await held).Events).Id);
        Assert.Equal(published.Id, Assert.Single((await client.PollAsync($"/api/poll?after={start}", cancellationToken)).Events).Id);
    }

    [Fact]
    public async Task HeartbeatsKeepIdleStreamsOpenPastTheProxyReadTimeout()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        var proxy = await StartProxyAsync(ProjectConfig);
        using var client = new HttpClient { BaseAddress = proxy.Address };

        await AssertIdleStreamsOutliveTheProxyTimeoutAsync(
            client,
            async pathAndQuery =>
            {
                var socket = new ClientWebSocket();
                await socket.ConnectAsync(proxy.WebSocketUri(pathAndQuery), cancellationToken);
                return socket;
            },
            HttpVersion.Version11,
            cancellationToken);
    }

    /// <summary>
    /// An SSE stream and a WebSocket opened through the proxy, then left idle past its read timeout: both still deliver
    /// the next event, kept open by the host's heartbeats and pings. Over plain HTTP and over TLS alike.
    /// </summary>
    internal static async Task AssertIdleStreamsOutliveTheProxyTimeoutAsync(
        HttpClient client, Func<string, Task<ClientWebSocket>> connect, Version sseVersion, CancellationToken cancellationToken)
    {
        var start = await client.HeadCursorAsync(cancellationToken);
        var (sseResponse, sse) = await client.OpenSseAsync($"/api/sse?after={start}", cancellationToken);
        using var _ = sseResponse;
        Assert.Equal(sseVersion, sseResponse.Version);
        using var socket = await connect($"/ws?after={start}");
        await socket.ReceiveJsonAsync(cancellationToken);

        // The socket is read from here on, as a browser's is: a pending read is what answers the host's pings.
        var onSocket = socket.ReceiveEventsAsync(1, cancellationToken);

        // A long poll held past proxy_read_timeout is cut by the proxy (hence LongPollMaxTimeout must stay below it);
        // its 504 also marks the moment the SSE stream and the socket have been idle for longer than that timeout.
        using var cut = await client.GetAsync($"/api/longpoll?after={start}&timeout=8", cancellationToken);
        Assert.Equal(HttpStatusCode.GatewayTimeout, cut.StatusCode);

        var published = await client.PublishAsync("chat", new { text = "still there?" }, cancellationToken);
        Assert.Equal(published.Id, (await sse.ReadSseAsync(1)).Single(item => item.EventType == SseParser.EventTypeDefault).EventId);
        Assert.Equal(published.Id, Assert.Single(await onSocket).Id);
    }

    [Fact]
    public async Task ForwardedClientAddressAndSchemeAreHonouredFromALoopbackProxy()
    {
        var logs = new LogCapture();
        await using var app = new KestrelApplication(
            new Dictionary<string, string?> { ["Serilog:MinimumLevel:Override:Serilog.AspNetCore.RequestLoggingMiddleware"] = "Information" },
            services: logs.Register);
        using var client = app.CreateSocketClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        request.Headers.Add("X-Forwarded-Proto", "https");

        using var response = await client.SendAsync(request, TestClients.Deadline());

        // The request's log line is written as the request completes, which may be after the client has the response.
        var logged = await logs.WaitForAsync(e => e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal), TestClients.Deadline());
        Assert.Equal("\"/healthz\"", logged.Properties["RequestPath"].ToString());
        Assert.Equal("\"203.0.113.7\"", logged.Properties["ClientAddress"].ToString());
        Assert.Equal("\"https\"", logged.Properties["Scheme"].ToString());
    }

    [Fact]
    public async Task DeployedNginxConfigurationIsValid()
    {
        // deploy/nginx.conf as docker-compose.yml mounts it, with the compose-only names pointed at this machine: the
        // upstream, the included locations, and the certificate the `certs` service makes (here, one made for the test).
        var cancellationToken = TestClients.Deadline();
        var deployed = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "nginx", "deployed-nginx.conf"), cancellationToken);
        const string Upstream = "server app:8080;";
        const string Include = "include /etc/nginx/realtimedemo.conf;";
        const string Certificates = "/etc/nginx/certs/";
        Assert.Contains(Upstream, deployed, StringComparison.Ordinal);
        Assert.Contains(Include, deployed, StringComparison.Ordinal);
        Assert.Contains("listen 443 ssl;", deployed, StringComparison.Ordinal);
        Assert.Contains($"ssl_certificate {Certificates}cert.pem;", deployed, StringComparison.Ordinal);
        var certificates = Directory.CreateTempSubdirectory("realtimedemo-nginx-certs-");
        try
        {
            using var certificate = DevelopmentHttpsExtensions.CreateLocalhostCertificate(DateTimeOffset.UtcNow);
            await NginxProxy.WritePemAsync(certificate, certificates.FullName, cancellationToken);
            var local = deployed
                .Replace(Upstream, "server 127.0.0.1:8080;", StringComparison.Ordinal)
                .Replace(Include, $"include {ProjectConfig};", StringComparison.Ordinal)
                .Replace(Certificates, certificates.FullName + "/", StringComparison.Ordinal);

            var (exitCode, output) = await NginxProxy.CheckConfigurationAsync(await NginxProxy.ForThisNginxAsync(local, cancellationToken), cancellationToken);

            Assert.True(exitCode == 0, output);
            Assert.Contains("test is successful", output, StringComparison.Ordinal);
        }
        finally
        {
            certificates.Delete(recursive: true);
        }
    }

    private async Task<NginxProxy> StartProxyAsync(string locations) =>
        _proxy = await NginxProxy.StartAsync(_app.BaseAddress, locations, ProxyReadTimeout, TestClients.Deadline());

    // Opens an SSE stream through the proxy, publishes one event straight to the host once the host holds the
    // stream, and waits for the event. A buffering proxy may hold back even the response headers.
    private async Task<bool> SseEventArrivesWithinAsync(NginxProxy proxy, TimeSpan within)
    {
        var cancellationToken = TestClients.Deadline();
        using var direct = _app.CreateSocketClient();
        using var viaProxy = new HttpClient { BaseAddress = proxy.Address };
        var start = await direct.HeadCursorAsync(cancellationToken);
        using var stream = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var firstEvent = FirstEventIdAsync(viaProxy, $"/api/sse?after={start}", stream.Token);
        await direct.WaitForOpenConnectionsAsync("sse", 1, cancellationToken);

        var published = await direct.PublishAsync("chat", new { text = "now" }, cancellationToken);
        stream.CancelAfter(within);
        try
        {
            return await firstEvent == published.Id;
        }
        catch (OperationCanceledException) when (stream.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static async Task<string> FirstEventIdAsync(HttpClient client, string path, CancellationToken cancellationToken)
    {
        var (response, sse) = await client.OpenSseAsync(path, cancellationToken);
        using var _ = response;
        return (await sse.ReadSseAsync(1)).Single(item => item.EventType == SseParser.EventTypeDefault).EventId!;
    }
}
