using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>
/// A real nginx on 127.0.0.1 in front of a test host, running a given file of location blocks (the project's
/// <c>deploy/nginx/realtimedemo.conf</c>, or a naive one) inside a generated server block.
/// </summary>
public sealed class NginxProxy : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private NginxProxy(Process process, string directory, Uri address)
    {
        _process = process;
        _directory = directory;
        Address = address;
    }

    public static string ExecutablePath => ExternalComponent.Locate("NGINX_PATH", "/usr/sbin/nginx");

    public Uri Address { get; }

    public Uri WebSocketUri(string pathAndQuery) => new($"ws://{Address.Authority}/{pathAndQuery.TrimStart('/')}");

    /// <summary>What nginx logged as errors so far, for failure messages.</summary>
    public string ErrorLog => File.Exists(Path.Combine(_directory, "error.log")) ? File.ReadAllText(Path.Combine(_directory, "error.log")) : "";

    /// <summary>Starts nginx proxying to <paramref name="upstream"/>; skips the test (fails it under CI) without nginx.</summary>
    /// <param name="locations">The file of location blocks to include.</param>
    /// <param name="readTimeout">nginx's proxy_read_timeout: idle connections are cut after it.</param>
    public static async Task<NginxProxy> StartAsync(Uri upstream, string locations, TimeSpan readTimeout, CancellationToken cancellationToken)
    {
        ExternalComponent.Require(ExecutablePath, "nginx", "NGINX_PATH");
        var directory = Directory.CreateTempSubdirectory("realtimedemo-nginx-").FullName;
        var port = LoopbackPort.Free();
        await File.WriteAllTextAsync(Path.Combine(directory, "nginx.conf"), $$"""
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
                    listen 127.0.0.1:{{port}};
                    proxy_read_timeout {{(int)readTimeout.TotalSeconds}}s;

                    # As a proxy that does not know nginx's X-Accel-Buffering header behaves (most CDNs and other
                    # proxies): only the configuration under test decides whether SSE is buffered.
                    proxy_ignore_headers X-Accel-Buffering;

                    include {{locations}};
                }
            }
            """, cancellationToken);

        var process = Process.Start(new ProcessStartInfo(ExecutablePath)
        {
            ArgumentList = { "-p", directory, "-c", Path.Combine(directory, "nginx.conf") },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        var proxy = new NginxProxy(process, directory, new Uri($"http://127.0.0.1:{port}/"));
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

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
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
