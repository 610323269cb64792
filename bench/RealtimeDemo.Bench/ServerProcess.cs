using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace RealtimeDemo.Bench;

/// <summary>
/// A server the bench runs as its own process (RealtimeDemo, or the baselines), on a free loopback port,
/// with its CPU time and memory read from /proc so every run can be charged what it cost the server. Given a
/// certificate, it also serves HTTPS (HTTP/1.1 and HTTP/2 by ALPN, Kestrel's default) on a second port.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private ServerProcess(ChildProcess process, Uri address, Uri? secureAddress)
    {
        _process = process;
        Address = address;
        SecureAddress = secureAddress;
    }

    /// <summary>Its cleartext address (http://).</summary>
    public Uri Address { get; }

    /// <summary>Its HTTPS address, when started with a certificate.</summary>
    public Uri? SecureAddress { get; }

    /// <summary>
    /// Starts <paramref name="dll"/> (next to the bench's own binaries) and waits for /healthz; with
    /// <paramref name="tls"/>, serving HTTPS with it too, through Kestrel's standard certificate settings. Given a
    /// <paramref name="port"/>, on that one (a host started again behind a proxy that knows its address).
    /// </summary>
    public static async Task<ServerProcess> StartAsync(
        string dll, IReadOnlyDictionary<string, string> environment, BenchCertificate? tls, CancellationToken cancellationToken, int? port = null)
    {
        port ??= FreePort();
        var securePort = tls is null ? (int?)null : FreePort(except: port.Value);
        var urls = $"http://127.0.0.1:{port}" + (securePort is null ? string.Empty : $";https://127.0.0.1:{securePort}");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, dll), "--urls", urls },
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_gcServer"] = "0";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        foreach (var (key, value) in tls?.HostSettings() ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var server = new ServerProcess(
            ChildProcess.Start(start, dll), new Uri($"http://127.0.0.1:{port}/"), securePort is null ? null : new Uri($"https://127.0.0.1:{securePort}/"));
        try
        {
            await WaitUntilHealthyAsync(server, dll, cancellationToken);
            return server;
        }
        catch
        {
            // Not started (it exited, never answered, or the bench is stopping): nothing of it may outlive the bench.
            await server.DisposeAsync();
            throw;
        }
    }

    private static async Task WaitUntilHealthyAsync(ServerProcess server, string dll, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(2) };
        for (var attempt = 0; ; attempt++)
        {
            if (server._process.HasExited || attempt > 300)
            {
                throw new InvalidOperationException($"{dll} did not start:\n{server.Output}");
            }

            try
            {
                using var response = await http.GetAsync("healthz", cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The client's own 2 s timeout: not answering yet, like a refused connection.
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    public string Output => _process.Output;

    /// <summary>User + system CPU seconds the server has used so far.</summary>
    public double CpuSeconds()
    {
        // /proc/<pid>/stat: fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks / 100.0; // USER_HZ is 100 on Linux
    }

    /// <summary>The server's resident memory now, in bytes.</summary>
    public long RssBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    /// <summary>
    /// Sends SIGTERM, as an orchestrator stopping a host does, and waits for the graceful drain to end the process
    /// (killed after <paramref name="timeout"/>, as an orchestrator would); the server is disposed either way.
    /// </summary>
    public Task TerminateAsync(TimeSpan timeout) => _process.StopAsync(Signals.Term, timeout);

    internal static int FreePort(int except = 0)
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            if (port != except)
            {
                return port;
            }
        }
    }
}
