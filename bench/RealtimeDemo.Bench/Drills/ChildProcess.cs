using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RealtimeDemo.Bench.Drills;

/// <summary>
/// A server of the drills' that is not a .NET host: redis-server or nginx, run in the foreground as the bench's child
/// on a loopback port. Every one started is stopped by <see cref="KillAll"/> too, for a bench ended by a signal.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private static readonly HashSet<ChildProcess> Started = [];

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ChildProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    public string Name { get; }

    public int Id => _process.Id;

    /// <summary>What it wrote (the first 64 KB), for a failure's message.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <paramref name="executable"/> and waits until <paramref name="port"/> accepts connections.</summary>
    public static async Task<ChildProcess> StartAsync(string executable, IEnumerable<string> arguments, int port, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var child = new ChildProcess(Process.Start(start)!, Path.GetFileName(executable));
        lock (Started)
        {
            Started.Add(child);
        }

        child._process.OutputDataReceived += (_, line) => child.Keep(line.Data);
        child._process.ErrorDataReceived += (_, line) => child.Keep(line.Data);
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        try
        {
            await child.WaitUntilListeningAsync(port, cancellationToken);
            return child;
        }
        catch
        {
            await child.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills every started child still running: for a bench ended by a signal, not by its own course.</summary>
    public static void KillAll()
    {
        ChildProcess[] started;
        lock (Started)
        {
            started = [.. Started];
        }

        foreach (var child in started)
        {
            child.Kill();
        }
    }

    /// <summary>Sends <paramref name="signal"/> and waits for the process to end (killed after 10 s), then disposes it.</summary>
    public async Task StopAsync(int signal)
    {
        if (!_process.HasExited)
        {
            _ = Signals.Send(_process.Id, signal);
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            // It did not stop: killed below.
        }

        await DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        lock (Started)
        {
            Started.Remove(this);
        }

        Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited (or disposed): nothing left to kill.
        }
    }

    private async Task WaitUntilListeningAsync(int port, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        while (true)
        {
            if (_process.HasExited || deadline.IsCancellationRequested)
            {
                cancellationToken.ThrowIfCancellationRequested();
                throw new InvalidOperationException($"{Name} did not start:\n{Output}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port, deadline.Token);
                return;
            }
            catch (Exception exception) when (exception is SocketException or OperationCanceledException)
            {
            }

            await Task.Delay(20, CancellationToken.None);
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < 64 * 1024)
            {
                _output.AppendLine(line);
            }
        }
    }
}
