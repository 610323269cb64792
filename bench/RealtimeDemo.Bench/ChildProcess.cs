using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RealtimeDemo.Bench;

/// <summary>
/// A process the bench starts and must stop: a RealtimeDemo host or a baseline (<see cref="ServerProcess"/>),
/// redis-server or nginx. Its output is kept for failure messages, and every one started is stopped by
/// <see cref="KillAll"/> too, for a bench ended by a signal.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private static readonly HashSet<ChildProcess> Started = [];

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Func<string, bool>? _onLine;

    private ChildProcess(Process process, string name, Func<string, bool>? onLine)
    {
        _process = process;
        Name = name;
        _onLine = onLine;
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

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

    /// <summary>
    /// Starts <paramref name="start"/> (its output redirected here) under <paramref name="name"/>; every line it writes
    /// goes to <paramref name="onLine"/> first, when given, and is kept for <see cref="Output"/> unless that took it. Its
    /// standard input is open for <see cref="SendLineAsync"/> when <see cref="ProcessStartInfo.RedirectStandardInput"/> is set.
    /// </summary>
    public static ChildProcess Start(ProcessStartInfo start, string name, Func<string, bool>? onLine = null)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var child = new ChildProcess(Process.Start(start)!, name, onLine);
        lock (Started)
        {
            Started.Add(child);
        }

        child._process.OutputDataReceived += (_, line) => child.Keep(line.Data);
        child._process.ErrorDataReceived += (_, line) => child.Keep(line.Data);
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Starts <paramref name="executable"/> and waits until <paramref name="port"/> accepts connections.</summary>
    public static async Task<ChildProcess> StartAsync(string executable, IEnumerable<string> arguments, int port, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(executable);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var child = Start(start, Path.GetFileName(executable));
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

    /// <summary>Writes <paramref name="line"/> to its standard input.</summary>
    public async Task SendLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Waits for it to exit by itself, up to <paramref name="timeout"/>; whether it did.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
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

    /// <summary>
    /// Sends <paramref name="signal"/> and waits for the process to end (killed after <paramref name="timeout"/>, 10 s
    /// unless told), then disposes it.
    /// </summary>
    public async Task StopAsync(int signal, TimeSpan? timeout = null)
    {
        if (!_process.HasExited)
        {
            // A process that exited meanwhile cannot take the signal; one that did not stop is killed below either way.
            _ = Signals.Send(_process.Id, signal);
        }

        // One that did not stop in time is killed by the disposal.
        await WaitForExitAsync(timeout ?? TimeSpan.FromSeconds(10), CancellationToken.None);
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
        if (line is null || _onLine?.Invoke(line) == true)
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
