using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>
/// A real nginx on 127.0.0.1 in front of a test host, running a given file of location blocks (the project's
/// <c>deploy/nginx/realtimedemo.conf</c>, or a naive one) inside a generated server block: plain HTTP, or HTTPS with
/// HTTP/2 as deploy/nginx.conf serves browsers.
/// </summary>
public sealed partial class NginxProxy : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private NginxProxy(Process process, string directory, Uri address, X509Certificate2? certificate)
    {
        _process = process;
        _directory = directory;
        Address = address;
        Certificate = certificate;
    }

    public static string ExecutablePath => ExternalComponent.Locate("NGINX_PATH", "/usr/sbin/nginx");

    /// <summary>Where nginx listens: <c>http://127.0.0.1:port/</c>, or <c>https://</c> with TLS.</summary>
    public Uri Address { get; }

    /// <summary>The certificate nginx serves over TLS; clients of this proxy trust it and nothing else.</summary>
    public X509Certificate2? Certificate { get; }

    public Uri WebSocketUri(string pathAndQuery) =>
        new($"{(Certificate is null ? "ws" : "wss")}://{Address.Authority}/{pathAndQuery.TrimStart('/')}");

    /// <summary>
    /// A socket handler that trusts this proxy's certificate only and reaches the proxy whatever host name a request
    /// names, as a browser that resolved a public name to it would.
    /// </summary>
    public SocketsHttpHandler CreateHandler() => new()
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => IsOurs(presented) },
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(IPAddress.Loopback, Address.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    /// <summary>Whether <paramref name="presented"/> is the certificate this proxy serves.</summary>
    public bool IsOurs(X509Certificate? presented) =>
        Certificate is not null && presented is not null && presented.GetCertHashString() == Certificate.GetCertHashString();

    /// <summary>What nginx logged as errors so far, for failure messages.</summary>
    public string ErrorLog => File.Exists(Path.Combine(_directory, "error.log")) ? File.ReadAllText(Path.Combine(_directory, "error.log")) : "";

    /// <summary>Starts nginx proxying to <paramref name="upstream"/>; skips the test (fails it under CI) without nginx.</summary>
    /// <param name="locations">The file of location blocks to include.</param>
    /// <param name="readTimeout">nginx's proxy_read_timeout: idle connections are cut after it.</param>
    /// <param name="certificate">
    /// With a certificate, HTTPS with HTTP/2 and HTTP/1.1 by ALPN, as deploy/nginx.conf serves browsers. The proxy
    /// owns it from then on.
    /// </param>
    public static async Task<NginxProxy> StartAsync(
        Uri upstream, string locations, TimeSpan readTimeout, CancellationToken cancellationToken, X509Certificate2? certificate = null)
    {
        ExternalComponent.Require(ExecutablePath, "nginx", "NGINX_PATH");
        var directory = Directory.CreateTempSubdirectory("realtimedemo-nginx-").FullName;
        var port = LoopbackPort.Free();
        var listen = $"listen 127.0.0.1:{port};";
        if (certificate is not null)
        {
            await WritePemAsync(certificate, directory, cancellationToken);
            listen = $"listen 127.0.0.1:{port} ssl; http2 on; ssl_certificate {directory}/cert.pem; ssl_certificate_key {directory}/key.pem;";
        }

        var configuration = $$"""
            daemon off;
            master_process off;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log warn;
            events {}
            http {
                access_log off;
                client_body_temp_path {{directory}}/body;
                proxy_temp_path {{directory}}/proxy;
                fastcgi_temp_path {{directory}}/fastcgi;
                uwsgi_temp_path {{directory}}/uwsgi;
                scgi_temp_path {{directory}}/scgi;
                map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
                upstream realtimedemo { server {{upstream.Authority}}; keepalive 8; }
                server {
                    {{listen}}
                    proxy_read_timeout {{(int)readTimeout.TotalSeconds}}s;

                    # As a proxy that does not know nginx's X-Accel-Buffering header behaves (most CDNs and other
                    # proxies): only the configuration under test decides whether SSE is buffered.
                    proxy_ignore_headers X-Accel-Buffering;

                    include {{locations}};
                }
            }
            """;
        await File.WriteAllTextAsync(Path.Combine(directory, "nginx.conf"), await ForThisNginxAsync(configuration, cancellationToken), cancellationToken);

        var process = Process.Start(new ProcessStartInfo(ExecutablePath)
        {
            ArgumentList = { "-p", directory, "-c", Path.Combine(directory, "nginx.conf") },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        var proxy = new NginxProxy(process, directory, new Uri($"{(certificate is null ? "http" : "https")}://127.0.0.1:{port}/"), certificate);
        await proxy.WaitUntilListeningAsync(port, cancellationToken);
        return proxy;
    }

    /// <summary>Runs <c>nginx -t</c> on a complete configuration: its exit code and what it printed.</summary>
    public static async Task<(int ExitCode, string Output)> CheckConfigurationAsync(string configuration, CancellationToken cancellationToken)
    {
        ExternalComponent.Require(ExecutablePath, "nginx", "NGINX_PATH");
        var directory = Directory.CreateTempSubdirectory("realtimedemo-nginx-check-").FullName;
        try
        {
            var file = Path.Combine(directory, "nginx.conf");
            await File.WriteAllTextAsync(file, configuration, cancellationToken);
            using var process = Process.Start(new ProcessStartInfo(ExecutablePath)
            {
                ArgumentList = { "-t", "-p", directory, "-c", file, "-e", Path.Combine(directory, "error.log"), "-g", $"pid {directory}/nginx.pid;" },
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            })!;
            var output = await process.StandardError.ReadToEndAsync(cancellationToken) + await process.StandardOutput.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            return (process.ExitCode, output);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// The configuration in the syntax this nginx takes: <c>http2 on;</c> (nginx 1.25.1 and later, as the compose
    /// image) becomes the older <c>listen … ssl http2;</c> for an older nginx (Debian bookworm's 1.22).
    /// </summary>
    public static async Task<string> ForThisNginxAsync(string configuration, CancellationToken cancellationToken) =>
        await VersionAsync(cancellationToken) >= new Version(1, 25, 1)
            ? configuration
            : Http2On().Replace(configuration, "listen $1 ssl http2;");

    /// <summary>Writes <paramref name="certificate"/> and its key as <c>cert.pem</c> and <c>key.pem</c>, as nginx reads them.</summary>
    public static async Task WritePemAsync(X509Certificate2 certificate, string directory, CancellationToken cancellationToken)
    {
        using var key = certificate.GetECDsaPrivateKey()
            ?? throw new ArgumentException("An ECDSA certificate with its key is needed.", nameof(certificate));
        await File.WriteAllTextAsync(Path.Combine(directory, "cert.pem"), certificate.ExportCertificatePem(), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(directory, "key.pem"), key.ExportPkcs8PrivateKeyPem(), cancellationToken);
    }

    private static async Task<Version> VersionAsync(CancellationToken cancellationToken)
    {
        ExternalComponent.Require(ExecutablePath, "nginx", "NGINX_PATH");
        using var process = Process.Start(new ProcessStartInfo(ExecutablePath)
        {
            ArgumentList = { "-v" },
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var output = await process.StandardError.ReadToEndAsync(cancellationToken); // "nginx version: nginx/1.22.1"
        await process.WaitForExitAsync(cancellationToken);
        var match = NginxVersion().Match(output);
        return match.Success
            ? Version.Parse(match.Groups[1].Value)
            : throw new InvalidOperationException($"No version in `nginx -v`: {output}");
    }

    [GeneratedRegex(@"nginx/(\d+\.\d+\.\d+)")]
    private static partial Regex NginxVersion();

    // `listen <address> ssl;` and, next, `http2 on;`: the pair deploy/nginx.conf and the TLS test server use.
    [GeneratedRegex(@"listen ([^;]+) ssl;\s*http2 on;")]
    private static partial Regex Http2On();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Certificate?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task WaitUntilListeningAsync(int port, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"nginx exited ({_process.ExitCode}): {await _process.StandardError.ReadToEndAsync(cancellationToken)}{ErrorLog}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken); // nginx is still starting
            }
        }
    }

}
