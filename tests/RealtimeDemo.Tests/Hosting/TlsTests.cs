using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using RealtimeDemo.Hosting;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Hosting;

/// <summary>
/// The transports over TLS on real Kestrel, as browsers reach a host that terminates TLS itself: HTTP/1.1 and HTTP/2
/// offered by ALPN on one port, WebSockets as extended CONNECT streams over HTTP/2 and as upgrades over HTTP/1.1, and
/// clients that speak TLS badly refused without harm to the others.
/// </summary>
public sealed class TlsTests : IAsyncDisposable
{
    private readonly KestrelApplication _app = new(protocols: HttpProtocols.Http1AndHttp2, tls: true);

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task SseOverTlsNegotiatesHttp2AndDeliversEachEvent()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();
        client.DefaultRequestVersion = HttpVersion.Version20;
        client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower; // as a browser: whatever ALPN agrees
        var (response, items) = await client.OpenSseAsync("/api/sse", cancellationToken);
        using var _ = response;
        Assert.Equal(HttpVersion.Version20, response.Version);
        await client.WaitForOpenConnectionsAsync("sse", 1, cancellationToken);

        var published = await client.PublishManyAsync(3, cancellationToken);

        var received = (await items.ReadSseAsync(3)).Where(item => item.EventType == "message").Select(item => item.ToEvent().Seq);
        Assert.Equal(published.Select(e => e.Seq), received);
    }

    [Theory]
    [InlineData(2, HttpStatusCode.OK)] // RFC 8441: an extended CONNECT, answered 200
    [InlineData(1, HttpStatusCode.SwitchingProtocols)] // an HTTP/1.1 upgrade, answered 101
    public async Task AWebSocketOverTlsReceivesAndPublishesOnEitherHttpVersion(int major, HttpStatusCode handshake)
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();
        using var invoker = new HttpMessageInvoker(_app.CreateHandler());
        using var socket = await _app.ConnectWebSocketAsync("/ws", cancellationToken, invoker, new Version(major, major == 2 ? 0 : 1));
        Assert.Equal(handshake, socket.HttpStatusCode);

        var published = await client.PublishAsync("test", new { n = 1 }, cancellationToken);
        Assert.Equal(published.Seq, (await socket.ReceiveEventsWithoutGapAsync(1, cancellationToken)).Single().Seq);

        await socket.SendJsonAsync(new { type = "publish", @event = new { type = "chat", data = new { text = "hi" } } }, cancellationToken);
        var echoed = (await socket.ReceiveEventsWithoutGapAsync(1, cancellationToken)).Single();
        Assert.Equal(("chat", published.Seq + 1), (echoed.Type, echoed.Seq));
    }

    [Fact]
    public async Task PlainHttpToTheTlsPortIsCutWithoutHarmingOpenStreams()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();
        var (response, items) = await client.OpenSseAsync("/api/sse", cancellationToken);
        using var _ = response;
        await client.WaitForOpenConnectionsAsync("sse", 1, cancellationToken);

        // A request in plain text where a TLS handshake must start: the host reads no request from it and hangs up.
        using var plain = new TcpClient();
        await plain.ConnectAsync(IPAddress.Loopback, _app.BaseAddress.Port, cancellationToken);
        var stream = plain.GetStream();
        await stream.WriteAsync("GET /api/poll HTTP/1.1\r\nHost: localhost\r\n\r\n"u8.ToArray(), cancellationToken);
        Assert.Equal(0, await ReadToEndAsync(stream, cancellationToken));

        var published = await client.PublishAsync("test", new { n = 1 }, cancellationToken);
        var received = (await items.ReadSseAsync(1)).Single(item => item.EventType == "message").ToEvent();
        Assert.Equal(published.Seq, received.Seq);
    }

    [Fact]
    public async Task AHandshakeThatNeverFinishesIsCutWhileOthersAreServed()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);

        // The first bytes of a TLS record (a handshake, TLS 1.0 framing, a length) and then nothing more.
        using var stuck = new TcpClient();
        await stuck.ConnectAsync(IPAddress.Loopback, _app.BaseAddress.Port, cancellationToken);
        var stream = stuck.GetStream();
        await stream.WriteAsync(new byte[] { 0x16, 0x03, 0x01, 0x02, 0x00 }, cancellationToken);

        // Meanwhile every other client is served as usual.
        using var client = _app.CreateSocketClient();
        for (var i = 0; i < 5; i++)
        {
            using var healthy = await client.GetAsync("/healthz", cancellationToken);
            Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        }

        // Kestrel's handshake timeout (10 s by default) ends the stuck one: it is not held open forever.
        Assert.Equal(0, await ReadToEndAsync(stream, cancellationToken));
    }

    /// <summary>
    /// The run command on a fresh machine: Development, an HTTPS address, and no development certificate in the user's
    /// store (a home of its own). The host makes one for localhost, says so, and serves HTTP/2 over it.
    /// </summary>
    [Fact]
    public async Task InDevelopmentWithoutACertificateTheHostMakesOneAndServesHttp2()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        var home = Directory.CreateTempSubdirectory("realtimedemo-home-");
        try
        {
            await using var host = new HostProcess(
                new Dictionary<string, string?> { ["ASPNETCORE_ENVIRONMENT"] = "Development", ["HOME"] = home.FullName },
                urls: "https://127.0.0.1:0");
            var address = await host.ListeningAsync(cancellationToken);
            Assert.Equal("https", address.Scheme);

            X509Certificate? served = null;
            using var handler = new SocketsHttpHandler
            {
                SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) => (served = certificate) is not null },
            };
            using var client = new HttpClient(handler)
            {
                BaseAddress = address,
                DefaultRequestVersion = HttpVersion.Version20,
                DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            };
            using var page = await client.GetAsync("/", cancellationToken);

            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal(HttpVersion.Version20, page.Version);
            Assert.Equal("CN=localhost", served?.Subject);
            Assert.Contains("HTTPS uses a certificate made at start for localhost", host.Output, StringComparison.Ordinal);
            Assert.Contains(served!.GetCertHashString(), host.Output, StringComparison.Ordinal);
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Development with a certificate configured for an endpoint (Kestrel's standard settings): the host serves that
    /// one, and neither makes one of its own nor says it did.
    /// </summary>
    [Fact]
    public async Task InDevelopmentAnEndpointsOwnCertificateIsServed()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        var folder = Directory.CreateTempSubdirectory("realtimedemo-certificate-");
        try
        {
            using var certificate = DevelopmentHttpsExtensions.CreateLocalhostCertificate(DateTimeOffset.UtcNow);
            var certificatePath = Path.Combine(folder.FullName, "tls.crt");
            var keyPath = Path.Combine(folder.FullName, "tls.key");
            await File.WriteAllTextAsync(certificatePath, certificate.ExportCertificatePem(), cancellationToken);
            await File.WriteAllTextAsync(keyPath, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem(), cancellationToken);
            await using var host = new HostProcess(
                new Dictionary<string, string?>
                {
                    ["ASPNETCORE_ENVIRONMENT"] = "Development",
                    ["HOME"] = folder.FullName,
                    ["Kestrel__Endpoints__Https__Url"] = "https://127.0.0.1:0",
                    ["Kestrel__Endpoints__Https__Certificate__Path"] = certificatePath,
                    ["Kestrel__Endpoints__Https__Certificate__KeyPath"] = keyPath,
                },
                urls: "https://127.0.0.1:0");
            var address = await host.ListeningAsync(cancellationToken);

            string? served = null;
            using var handler = new SocketsHttpHandler
            {
                SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => (served = presented?.GetCertHashString()) is not null },
            };
            using var client = new HttpClient(handler) { BaseAddress = address };
            using var health = await client.GetAsync("/healthz", cancellationToken);

            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal(certificate.GetCertHashString(), served);
            Assert.DoesNotContain("HTTPS uses", host.Output, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>Reads until the peer closes; the bytes it sent before closing (none expected).</summary>
    private static async Task<int> ReadToEndAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[1024];
        var total = 0;
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                total += read;
            }
        }
        catch (IOException)
        {
            // Reset rather than closed: cut all the same.
        }

        return total;
    }
}
