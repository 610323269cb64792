using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace RealtimeDemo.Bench.Fleet;

/// <summary>
/// The bench's side of its client processes (<see cref="FleetClientRole"/>): it starts them, each with a slice of the
/// connections, keeps the last status each wrote (connections up, events received), and at the end tells them to
/// finish and adds up their results. Disposing it stops any still running.
/// </summary>
internal sealed class FleetClients : IAsyncDisposable
{
    private readonly List<ChildProcess> _processes = [];
    private readonly (int Connected, long Delivered)[] _status;
    private readonly FleetClientResult?[] _results;

    private FleetClients(int processes)
    {
        _status = new (int, long)[processes];
        _results = new FleetClientResult?[processes];
    }

    public int Processes => _status.Length;

    /// <summary>Connections up, over every process, as each last wrote (at most a second ago).</summary>
    public int Connected
    {
        get
        {
            lock (_status)
            {
                return _status.Sum(status => status.Connected);
            }
        }
    }

    public long Delivered
    {
        get
        {
            lock (_status)
            {
                return _status.Sum(status => status.Delivered);
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="processes"/> client processes holding <paramref name="connections"/> connections of
    /// <paramref name="transport"/> between them, connection i to host i mod hosts, every one expecting every seq from
    /// <paramref name="firstSeq"/> on (resuming after <paramref name="cursor"/>).
    /// </summary>
    public static FleetClients Start(string transport, IReadOnlyList<Uri> hosts, int connections, int processes, long firstSeq, string? cursor)
    {
        var clients = new FleetClients(processes);
        for (var process = 0; process < processes; process++)
        {
            var offset = (int)((long)connections * process / processes);
            var count = (int)((long)connections * (process + 1) / processes) - offset;
            var start = new ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory, RedirectStandardInput = true };
            start.ArgumentList.Add(typeof(FleetClients).Assembly.Location);
            foreach (var argument in FleetClientRole.Arguments(transport, hosts, offset, count, firstSeq, cursor))
            {
                start.ArgumentList.Add(argument);
            }

            var index = process;
            clients._processes.Add(ChildProcess.Start(start, $"client process {process + 1}", line => clients.Read(index, line)));
        }

        return clients;
    }

    /// <summary>Waits until <paramref name="expected"/> connections are up, up to <paramref name="timeout"/>; how many are.</summary>
    public async Task<int> WaitConnectedAsync(int expected, TimeSpan timeout, Action<int> progress, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (Connected < expected && waited.Elapsed < timeout)
        {
            ThrowIfExited();
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            progress(Connected);
        }

        return Connected;
    }

    /// <summary>
    /// Tells every process that <paramref name="lastSeq"/> was the last event published: each waits for its connections
    /// to receive it, closes them and answers its counts, added up here (the drain: the slowest process's).
    /// </summary>
    public async Task<FleetClientResult> FinishAsync(long lastSeq, CancellationToken cancellationToken)
    {
        ThrowIfExited();
        await Task.WhenAll(_processes.Select(process => process.SendLineAsync($"finish {lastSeq.ToString(CultureInfo.InvariantCulture)}")));

        // Each waits up to its drain for the last event, then closes thousands of connections.
        var exits = await Task.WhenAll(_processes.Select(process => process.WaitForExitAsync(TimeSpan.FromSeconds(90), cancellationToken)));
        FleetClientResult?[] results;
        lock (_status)
        {
            results = [.. _results];
        }

        if (exits.Contains(false) || results.Any(result => result is null))
        {
            var failed = _processes[Array.FindIndex(results, result => result is null) is var index and >= 0 ? index : Array.IndexOf(exits, false)];
            throw new InvalidOperationException($"{failed.Name} did not finish:\n{failed.Output}");
        }

        return results.Aggregate((a, b) => new FleetClientResult(
            a!.Connected + b!.Connected, a.Delivered + b.Delivered, a.Lost + b.Lost, a.Duplicated + b.Duplicated,
            a.GapSignals + b.GapSignals, a.Reconnects + b.Reconnects, a.Refused + b.Refused, Math.Max(a.DrainSeconds, b.DrainSeconds)))!;
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_processes.Select(process => process.DisposeAsync().AsTask()));
    }

    // A client process that ended before it was told to finish took its connections with it: said, with its output.
    private void ThrowIfExited()
    {
        if (_processes.FirstOrDefault(process => process.HasExited) is { } exited)
        {
            throw new InvalidOperationException($"{exited.Name} ended early:\n{exited.Output}");
        }
    }

    // A status or a result: taken (the rest is kept for a failure's message).
    private bool Read(int process, string line)
    {
        // Read on the process's output thread, where an exception would end the bench: a line that does not parse is
        // kept with the rest of the output instead.
        if (line.StartsWith(FleetClientRole.StatusPrefix, StringComparison.Ordinal)
            && line[FleetClientRole.StatusPrefix.Length..].Split(' ') is [var connectedText, var deliveredText]
            && int.TryParse(connectedText, CultureInfo.InvariantCulture, out var connected)
            && long.TryParse(deliveredText, CultureInfo.InvariantCulture, out var delivered))
        {
            lock (_status)
            {
                _status[process] = (connected, delivered);
            }

            return true;
        }

        if (line.StartsWith(FleetClientRole.ResultPrefix, StringComparison.Ordinal))
        {
            try
            {
                var result = JsonSerializer.Deserialize(line[FleetClientRole.ResultPrefix.Length..], FleetClientJson.Default.FleetClientResult);
                lock (_status)
                {
                    _results[process] = result;
                }

                return true;
            }
            catch (JsonException)
            {
                return false;
            }
        }

        return false;
    }
}
