using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using StackExchange.Redis;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>
/// A real Redis for the tests that share a log through it: Debian's <c>redis-server</c> (or <c>REDIS_SERVER_PATH</c>)
/// started on a free 127.0.0.1 port without persistence, or the server at <c>REDIS_URL</c> when set. Without either,
/// the tests skip with the reason, except under CI, where they fail. Tests keep apart by key prefix.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("realtimedemo-redis-").FullName;
    private Process? _process;
    private int _port;

    public static string ExecutablePath => ExternalComponent.Locate("REDIS_SERVER_PATH", "/usr/bin/redis-server");

    private static string? ExternalUrl => Environment.GetEnvironmentVariable("REDIS_URL") is { Length: > 0 } url ? url : null;

    /// <summary>The connection string for <c>ConnectionStrings:Redis</c>: host:port, with <see cref="LongTimeouts"/>.</summary>
    public string ConnectionString => (ExternalUrl is { } url
        ? url.Replace("redis://", "", StringComparison.Ordinal).TrimEnd('/')
        : $"127.0.0.1:{_port}") + "," + LongTimeouts;

    /// <summary>
    /// Command timeouts far beyond any test's "promptly" (they override the host's 2 s defaults): a command that fails
    /// within a few seconds then failed fast, and did not merely time out.
    /// </summary>
    public const string LongTimeouts = "asyncTimeout=30000,syncTimeout=30000";

    /// <summary>A key prefix no other test uses, for <c>Realtime:RedisKeyPrefix</c>.</summary>
    public static string NewKeyPrefix() => $"test-{Guid.NewGuid():N}";

    public async ValueTask InitializeAsync()
    {
        if (ExternalUrl is null && File.Exists(ExecutablePath))
        {
            _port = LoopbackPort.Free();
            await StartAsync(TestClients.Deadline(Deadlines.Slow));
        }
    }

    /// <summary>Skips the test when there is no Redis (fails it under CI).</summary>
    public void RequireRedis()
    {
        if (ExternalUrl is null)
        {
            ExternalComponent.Require(ExecutablePath, "redis-server", "REDIS_SERVER_PATH (or REDIS_URL for a running server)");
        }
    }

    /// <summary>
    /// Skips the test (fails it under CI) unless this fixture runs the server itself: it cannot stop one at <c>REDIS_URL</c>.
    /// </summary>
    public void RequireOwnServer()
    {
        RequireRedis();
        if (ExternalUrl is not null)
        {
            ExternalComponent.Unavailable("This test stops and restarts Redis: it needs the redis-server the fixture starts, not REDIS_URL.");
        }
    }

    public ConnectionMultiplexer Connect() =>
        ConnectionMultiplexer.Connect(RedisConnection.Options(ConnectionString));

    /// <summary>Starts the server (again, on the same port) and waits until it answers PING.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _process = Process.Start(new ProcessStartInfo(ExecutablePath)
        {
            // No automatic persistence; the directory only holds what an explicit SHUTDOWN SAVE writes (see StopAsync).
            ArgumentList = { "--port", _port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _directory },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        await WaitUntilAnsweringAsync(cancellationToken);
    }

    /// <summary>
    /// Stops the server. With <paramref name="keepData"/>, as a server with persistence restarts: it saves its data
    /// and the next <see cref="StartAsync"/> loads it; without, abruptly, and its data is gone (a new, empty Redis).
    /// </summary>
    public async Task StopAsync(bool keepData = false)
    {
        if (_process is { HasExited: false })
        {
            // A server that will not stop fails the test (or the fixture) instead of hanging the run.
            var cancellationToken = TestClients.Deadline(Deadlines.Slow);
            if (keepData)
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, _port, cancellationToken);
                await client.GetStream().WriteAsync("SHUTDOWN SAVE\r\n"u8.ToArray(), cancellationToken);
            }
            else
            {
                _process.Kill();
            }

            await _process.WaitForExitAsync(cancellationToken);
        }

        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task WaitUntilAnsweringAsync(CancellationToken cancellationToken)
    {
        var ping = "PING\r\n"u8.ToArray();
        var answer = new byte[7];
        while (true)
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited ({_process.ExitCode}): {await _process.StandardError.ReadToEndAsync(cancellationToken)}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, _port, cancellationToken);
                var stream = client.GetStream();
                await stream.WriteAsync(ping, cancellationToken);
                await stream.ReadExactlyAsync(answer, cancellationToken);
                if (Encoding.ASCII.GetString(answer) == "+PONG\r\n")
                {
                    return;
                }
            }
            catch (Exception exception) when (exception is SocketException or IOException)
            {
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken); // redis-server is still starting
        }
    }

}
