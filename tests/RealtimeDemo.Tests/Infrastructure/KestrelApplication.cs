using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>The host on real Kestrel at an ephemeral 127.0.0.1 port, for tests that need real sockets.</summary>
public sealed class KestrelApplication : RealtimeDemoApplication
{
    /// <param name="settings">Settings to override, as for <see cref="RealtimeDemoApplication"/>.</param>
    /// <param name="port">A fixed port (to start a "restarted" host where the last one was); 0 for any free port.</param>
    /// <param name="services">Services to add or replace, as for <see cref="RealtimeDemoApplication"/>.</param>
    /// <param name="protocols">
    /// What the endpoint speaks: HTTP/1.1, or <see cref="HttpProtocols.Http2"/> alone for HTTP/2 without TLS (clients
    /// must use it from the first byte, as <see cref="CreateHttp2Client"/> does).
    /// </param>
    public KestrelApplication(
        IReadOnlyDictionary<string, string?>? settings = null,
        int port = 0,
        Action<IServiceCollection>? services = null,
        HttpProtocols protocols = HttpProtocols.Http1)
        : base(settings, services)
    {
        UseKestrel(options => options.Listen(IPAddress.Loopback, port, listen => listen.Protocols = protocols));
        StartServer();
        var address = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        BaseAddress = new Uri(address);
    }

    /// <summary>Where the server listens, e.g. <c>http://127.0.0.1:40123</c>.</summary>
    public Uri BaseAddress { get; }

    public Uri WebSocketUri(string pathAndQuery) => new($"ws://{BaseAddress.Authority}/{pathAndQuery.TrimStart('/')}");

    /// <summary>
    /// Opens a WebSocket to <paramref name="pathAndQuery"/> and takes its first message, which must be the welcome. With
    /// <paramref name="http2"/>, over HTTP/2 (an extended CONNECT) through that invoker. A handshake the host answers
    /// with an error status throws <see cref="HttpRequestException"/> carrying that status.
    /// </summary>
    public async Task<ClientWebSocket> ConnectWebSocketAsync(string pathAndQuery, CancellationToken cancellationToken, HttpMessageInvoker? http2 = null)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            if (http2 is null)
            {
                await socket.ConnectAsync(WebSocketUri(pathAndQuery), cancellationToken);
            }
            else
            {
                socket.Options.HttpVersion = HttpVersion.Version20;
                socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
                await socket.ConnectAsync(WebSocketUri(pathAndQuery), http2, cancellationToken);
            }

            Assert.Equal("welcome", (await socket.ReceiveJsonAsync(cancellationToken))?.GetProperty("control").GetString());
            return socket;
        }
        catch (WebSocketException exception) when ((int)socket.HttpStatusCode >= 400)
        {
            var status = socket.HttpStatusCode;
            socket.Dispose();
            throw new HttpRequestException($"The WebSocket handshake was answered {(int)status}.", exception, status);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A plain <see cref="HttpClient"/> over real sockets (not the factory's in-memory handler).</summary>
    public HttpClient CreateSocketClient() => new() { BaseAddress = BaseAddress };

    /// <summary>An <see cref="HttpClient"/> that speaks HTTP/2 only, over real sockets, to an HTTP/2 endpoint.</summary>
    public HttpClient CreateHttp2Client() => new()
    {
        BaseAddress = BaseAddress,
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };
}
