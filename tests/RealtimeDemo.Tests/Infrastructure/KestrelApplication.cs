using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using RealtimeDemo.Hosting;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>The host on real Kestrel at an ephemeral 127.0.0.1 port, for tests that need real sockets.</summary>
public sealed class KestrelApplication : RealtimeDemoApplication
{
    /// <param name="settings">Settings to override, as for <see cref="RealtimeDemoApplication"/>.</param>
    /// <param name="port">A fixed port (to start a "restarted" host where the last one was); 0 for any free port.</param>
    /// <param name="services">Services to add or replace, as for <see cref="RealtimeDemoApplication"/>.</param>
    /// <param name="protocols">
    /// What the endpoint speaks: HTTP/1.1, or <see cref="HttpProtocols.Http2"/> alone for HTTP/2 without TLS (clients
    /// must use it from the first byte, as <see cref="CreateHttp2Client"/> does). With <paramref name="tls"/>, pass
    /// <see cref="HttpProtocols.Http1AndHttp2"/> to let each client choose by ALPN, as browsers do.
    /// </param>
    /// <param name="tls">HTTPS, with a certificate for localhost made for this host (<see cref="Certificate"/>).</param>
    public KestrelApplication(
        IReadOnlyDictionary<string, string?>? settings = null,
        int port = 0,
        Action<IServiceCollection>? services = null,
        HttpProtocols protocols = HttpProtocols.Http1,
        bool tls = false)
        : base(settings, services)
    {
        Certificate = tls ? DevelopmentHttpsExtensions.CreateLocalhostCertificate(DateTimeOffset.UtcNow) : null;
        UseKestrel(options => options.Listen(IPAddress.Loopback, port, listen =>
        {
            listen.Protocols = protocols;
            if (Certificate is not null)
            {
                listen.UseHttps(Certificate);
            }
        }));
        StartServer();
        var address = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        BaseAddress = new Uri(address);
    }

    /// <summary>Where the server listens, e.g. <c>http://127.0.0.1:40123</c> (<c>https://</c> with TLS).</summary>
    public Uri BaseAddress { get; }

    /// <summary>The certificate an HTTPS host serves; clients of this host trust it and nothing else.</summary>
    public X509Certificate2? Certificate { get; }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Certificate?.Dispose();
    }

    public Uri WebSocketUri(string pathAndQuery) =>
        new($"{(Certificate is null ? "ws" : "wss")}://{BaseAddress.Authority}/{pathAndQuery.TrimStart('/')}");

    /// <summary>A socket handler that trusts this host's certificate (where it has one) and no other.</summary>
    public SocketsHttpHandler CreateHandler() => new()
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => IsOurs(presented) },
    };

    private bool IsOurs(X509Certificate? presented) =>
        Certificate is not null && presented is not null && presented.GetCertHashString() == Certificate.GetCertHashString();

    /// <summary>
    /// Opens a WebSocket to <paramref name="pathAndQuery"/> and takes its first message, which must be the welcome. With
    /// <paramref name="http2"/>, over HTTP/2 (an extended CONNECT) through that invoker. A handshake the host answers
    /// with an error status throws <see cref="HttpRequestException"/> carrying that status.
    /// </summary>
    /// <param name="version">With an invoker, the HTTP version to ask for exactly (2.0 unless told).</param>
    public async Task<ClientWebSocket> ConnectWebSocketAsync(
        string pathAndQuery, CancellationToken cancellationToken, HttpMessageInvoker? http2 = null, Version? version = null)
    {
        return await new ClientWebSocket().HandshakeAsync(async socket =>
        {
            if (http2 is null)
            {
                // With an invoker, its handler decides which certificates to trust (CreateHandler).
                socket.Options.RemoteCertificateValidationCallback = (_, presented, _, _) => IsOurs(presented);
                await socket.ConnectAsync(WebSocketUri(pathAndQuery), cancellationToken);
            }
            else
            {
                socket.Options.HttpVersion = version ?? HttpVersion.Version20;
                socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
                await socket.ConnectAsync(WebSocketUri(pathAndQuery), http2, cancellationToken);
            }

            Assert.Equal("welcome", (await socket.ReceiveJsonAsync(cancellationToken))?.GetProperty("control").GetString());
        });
    }

    /// <summary>A plain <see cref="HttpClient"/> over real sockets (not the factory's in-memory handler).</summary>
    public HttpClient CreateSocketClient() => new(CreateHandler()) { BaseAddress = BaseAddress };

    /// <summary>An <see cref="HttpClient"/> that speaks HTTP/2 only, over real sockets, to an HTTP/2 endpoint.</summary>
    public HttpClient CreateHttp2Client() => new(CreateHandler())
    {
        BaseAddress = BaseAddress,
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };
}
