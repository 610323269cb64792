using System.Diagnostics;
using System.Globalization;

namespace RealtimeDemo.Bench;

/// <summary>
/// What a drill runs against, all on loopback: N RealtimeDemo hosts sharing one log in a real redis-server, behind a
/// real nginx running the project's own <c>deploy/nginx/realtimedemo.conf</c> inside a generated server block whose
/// upstream is the N hosts. A host can be killed, stopped gracefully and started again on its port; nginx can be
/// restarted. Started direct (<see cref="StartDirectAsync"/>), it has no nginx: clients go to each host's own address,
/// as the lab's fleet mode does. Disposing it stops everything it started.
/// </summary>
public sealed class HostFleet : IAsyncDisposable
{
    private const string RedisServer = "/usr/bin/redis-server";
    private const string Nginx = "/usr/sbin/nginx";

    private readonly ServerProcess?[] _hosts;
    private readonly int[] _ports;
    private readonly Dictionary<string, string> _settings;
    private readonly string _directory;
    private readonly int _proxyPort;
    private readonly Uri? _proxyAddress;
    private ChildProcess? _redis;
    private ChildProcess? _nginx;

    private HostFleet(int hosts, Dictionary<string, string> settings, string directory, bool proxy)
    {
        _hosts = new ServerProcess?[hosts];
        _ports = Enumerable.Range(0, hosts).Select(_ => ServerProcess.FreePort()).ToArray();
        _settings = settings;
        _directory = directory;
        _proxyPort = proxy ? ServerProcess.FreePort() : 0;
        _proxyAddress = proxy ? new Uri($"http://127.0.0.1:{_proxyPort}/") : null;
        HostAddresses = [.. _ports.Select(port => new Uri($"http://127.0.0.1:{port}/"))];
    }

    /// <summary>How long nginx leaves out a host that refused a connection (its fail_timeout).</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(2);

    /// <summary>nginx's address: every client and the publisher go through it.</summary>
    public Uri ProxyAddress => _proxyAddress ?? throw new InvalidOperationException("This fleet was started without nginx.");

    /// <summary>Each host's own address, in order.</summary>
    public IReadOnlyList<Uri> HostAddresses { get; }

    public int Hosts => _hosts.Length;

    /// <summary>
    /// Starts Redis, <paramref name="hosts"/> hosts on it (at once) and nginx in front, installing redis-server and
    /// nginx first when missing (as the tests' script does). <paramref name="connections"/>: how many client
    /// connections nginx must hold at once.
    /// </summary>
    public static Task<HostFleet> StartAsync(int hosts, int connections, CancellationToken cancellationToken) =>
        StartAsync(hosts, connections, sharedLog: true, cancellationToken);

    /// <summary>
    /// Starts <paramref name="hosts"/> hosts with no proxy in front: with a <paramref name="sharedLog"/>, on one log in
    /// Redis (installed when missing); without, a host on its own in-memory log, as a single host runs.
    /// </summary>
    public static Task<HostFleet> StartDirectAsync(int hosts, bool sharedLog, CancellationToken cancellationToken) =>
        StartAsync(hosts, connections: null, sharedLog, cancellationToken);

    private static async Task<HostFleet> StartAsync(int hosts, int? connections, bool sharedLog, CancellationToken cancellationToken)
    {
        if (!sharedLog && hosts != 1)
        {
            throw new ArgumentException("Hosts that share no log would each have their own events.", nameof(sharedLog));
        }

        await EnsurePackagesAsync([.. sharedLog ? new[] { ("redis-server", RedisServer) } : [], .. connections is null ? [] : new[] { ("nginx", Nginx) }], cancellationToken);
        var directory = Directory.CreateTempSubdirectory("realtimedemo-fleet-").FullName;
        var fleet = new HostFleet(hosts, HostSettings(sharedLog), directory, proxy: connections is not null);
        try
        {
            if (sharedLog)
            {
                var redisPort = ServerProcess.FreePort();
                fleet._redis = await ChildProcess.StartAsync(
                    ExecutableOf("redis-server", RedisServer),
                    ["--port", Text(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory],
                    redisPort,
                    cancellationToken);
                fleet._settings["ConnectionStrings__Redis"] = $"127.0.0.1:{redisPort}";
            }

            await Task.WhenAll(Enumerable.Range(0, hosts).Select(index => fleet.StartHostAsync(index, cancellationToken)));
            if (connections is { } proxied)
            {
                await File.WriteAllTextAsync(Path.Combine(directory, "nginx.conf"), fleet.NginxConfiguration(proxied), cancellationToken);
                await fleet.StartProxyAsync(cancellationToken);
            }

            return fleet;
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts host <paramref name="index"/> (again) on its own port, and waits until it is healthy.</summary>
    public async Task StartHostAsync(int index, CancellationToken cancellationToken) =>
        _hosts[index] = await ServerProcess.StartAsync("RealtimeDemo.dll", _settings, tls: null, cancellationToken, _ports[index]);

    /// <summary>Host <paramref name="index"/>'s resident memory now.</summary>
    public long HostRssBytes(int index) => (_hosts[index] ?? throw new InvalidOperationException($"Host {index + 1} is not running.")).RssBytes();

    /// <summary>Kills host <paramref name="index"/> at once (SIGKILL): a crash, with no drain.</summary>
    public async Task KillHostAsync(int index)
    {
        if (_hosts[index] is { } host)
        {
            _hosts[index] = null;
            await host.DisposeAsync();
        }
    }

    /// <summary>Stops host <paramref name="index"/> with SIGTERM and waits for its graceful drain to end it.</summary>
    public async Task TerminateHostAsync(int index)
    {
        if (_hosts[index] is { } host)
        {
            _hosts[index] = null;
            await host.TerminateAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>
    /// Kills nginx (SIGKILL to the master and its workers, as a crash: the kernel closes every connection, with no
    /// shutdown of nginx's own), waits <paramref name="outage"/>, starts it again.
    /// </summary>
    public async Task RestartProxyAsync(TimeSpan outage, CancellationToken cancellationToken)
    {
        if (_nginx is { } nginx)
        {
            _nginx = null;
            await nginx.DisposeAsync();
        }

        await Task.Delay(outage, cancellationToken);
        await StartProxyAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }

        await Task.WhenAll(_hosts.Where(host => host is not null).Select(host => host!.DisposeAsync().AsTask()));
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a process on its way out: the temporary directory is left behind.
        }
    }

    private async Task StartProxyAsync(CancellationToken cancellationToken) =>
        _nginx = await ChildProcess.StartAsync(
            ExecutableOf("nginx", Nginx), ["-p", _directory, "-c", Path.Combine(_directory, "nginx.conf")], _proxyPort, cancellationToken);

    /// <summary>
    /// The server block the project's locations run in, as deploy/nginx.conf sets it up (its timeouts, its map, a kept
    /// alive upstream), with the N hosts as the upstream; plain HTTP on loopback. Every proxied connection holds two
    /// descriptors (client and upstream).
    /// </summary>
    private string NginxConfiguration(int connections)
    {
        // nginx's passive check: a host that failed a connect is left out for fail_timeout, then tried again. 2 s
        // rather than the default 10 s, so a host started again is back in rotation before the next is stopped.
        var servers = string.Concat(_ports.Select(port => $"server 127.0.0.1:{port} max_fails=1 fail_timeout={Text((int)RetryAfter.TotalSeconds)}s; "));
        // A process may hold at most 20,000 descriptors here, and every proxied connection takes two: enough workers
        // to stay well under it, the listening socket shared among them by the kernel (reuseport) so each takes its part.
        var workers = Math.Max(1, (int)Math.Ceiling(((connections * 2) + 1024) / 16_000.0));
        var perWorker = (connections * 2 / workers) + 1024;
        var workerConnections = Text(perWorker);
        return $$"""
            daemon off;
            worker_processes {{Text(workers)}};
            worker_rlimit_nofile {{Text(perWorker + 1024)}};
            pid {{_directory}}/nginx.pid;
            error_log {{_directory}}/error.log warn;
            events { worker_connections {{workerConnections}}; }
            http {
                access_log off;
                client_body_temp_path {{_directory}}/body;
                proxy_temp_path {{_directory}}/proxy;
                fastcgi_temp_path {{_directory}}/fastcgi;
                uwsgi_temp_path {{_directory}}/uwsgi;
                scgi_temp_path {{_directory}}/scgi;
                map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
                upstream realtimedemo { {{servers}}keepalive 32; }
                proxy_read_timeout 75s;
                proxy_send_timeout 75s;
                server {
                    listen 127.0.0.1:{{Text(_proxyPort)}} backlog=4096 reuseport;
                    include {{Locations()}};
                }
            }
            """;
    }

    /// <summary>The settings of every host: the shared log (in Redis), publishing by the bench alone, limits for load.</summary>
    private static Dictionary<string, string> HostSettings(bool sharedLog) => new()
    {
        ["Realtime__Store"] = sharedLog ? "Redis" : "Memory",
        ["Realtime__RedisKeyPrefix"] = $"bench-fleet-{Guid.NewGuid():N}",
        // The bench publishes (through nginx, or to each host in turn); the demo ticker stays still.
        ["Realtime__TickerEventsPerSecond"] = "0",
        ["Serilog__MinimumLevel__Default"] = "Warning",
        // One publisher: its rate is the run's, not a client's to be limited.
        ["Realtime__PublishPermitsPerSecond"] = "100000",
        ["Realtime__PublishBurst"] = "100000",
        ["Realtime__MaxSseConnections"] = "1000000",
        ["Realtime__MaxWebSocketConnections"] = "1000000",
        ["Realtime__MaxLongPollConnections"] = "1000000",
        ["Kestrel__Limits__MaxConcurrentConnections"] = "1000000",
    };

    /// <summary>deploy/nginx/realtimedemo.conf of the checkout the bench was built from.</summary>
    private static string Locations()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var file = Path.Combine(directory.FullName, "deploy", "nginx", "realtimedemo.conf");
                if (File.Exists(file))
                {
                    return file;
                }
            }
        }

        throw new InvalidOperationException("The drills need deploy/nginx/realtimedemo.conf: run the bench from its checkout.");
    }

    private static async Task EnsurePackagesAsync((string Name, string DebianPath)[] tools, CancellationToken cancellationToken)
    {
        var missing = tools.Where(tool => Executable(tool.Name, tool.DebianPath) is null).ToList();
        if (missing.Count == 0)
        {
            return;
        }

        var script = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Locations()))!)!, "scripts", "ensure-packages.sh");
        var names = string.Join(" and ", missing.Select(tool => tool.Name));
        Console.WriteLine($"Installing {names} ({script})");
        var start = new ProcessStartInfo(script) { UseShellExecute = false };
        missing.ForEach(tool => start.ArgumentList.Add(tool.Name));
        using var install = Process.Start(start)!;
        await install.WaitForExitAsync(cancellationToken);
        if (install.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} failed ({install.ExitCode}): the bench needs {names}.");
        }
    }

    private static string ExecutableOf(string name, string debianPath) =>
        Executable(name, debianPath) ?? throw new InvalidOperationException($"No {name} ({debianPath}, or on the PATH).");

    // Debian's path, else the PATH's.
    private static string? Executable(string name, string debianPath) =>
        File.Exists(debianPath) ? debianPath
            : (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
                .Select(directory => Path.Combine(directory, name)).FirstOrDefault(File.Exists);

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
