using System.Diagnostics;
using RealtimeDemo.Bench.Clients;

namespace RealtimeDemo.Bench;

/// <summary>
/// One transport under the load: N subscribers connect at the head of the stream, the server publishes at the rate
/// for the warm-up and then the measured seconds, then stops; the clients drain and every seq is accounted for.
/// What arrives, what the wire carries and what the server spends are counted over one window: from the end of the
/// warm-up until every client has drained (or the drain's deadline).
/// </summary>
public static class LoadRun
{
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(5);

    public static async Task<TransportRun> RunAsync(string transport, Target target, BenchOptions options, CancellationToken cancellationToken)
    {
        using var rig = await ClientRig.PrepareAsync(
            target, transport, TimeSpan.FromSeconds(options.PollIntervalSeconds), options.StreamsPerConnection, cancellationToken);
        var (context, control, head) = (rig.Context, rig.Control, rig.Head);
        var (wire, recorder) = (context.Wire, context.Recorder);
        var clients = Enumerable.Range(0, options.Clients).Select(index => BenchClient.Create(transport, context, index)).ToList();
        await using var group = new ClientGroup(clients, cancellationToken);
        await group.ConnectAsync(parallelism: 64);
        group.StartReceiving();
        var progress = new ProgressLine(transport, options.Clients);
        double measured;
        long last;
        double? cpu;
        long peakRss;
        int failures;
        (long Bytes, long Requests, long Empty) wireBefore, wireAfter;
        try
        {
            peakRss = target.Process?.RssBytes() ?? 0;
            await target.SetRateAsync(control, options.Rate, cancellationToken);
            var warmup = Stopwatch.StartNew();
            while (warmup.Elapsed < TimeSpan.FromSeconds(options.WarmupSeconds))
            {
                await Task.Delay(250, cancellationToken);
                peakRss = Math.Max(peakRss, target.Process?.RssBytes() ?? 0);
                progress.WarmingUp(warmup.Elapsed, options.WarmupSeconds);
            }

            // The measured window opens: deliveries, the wire and the server's CPU count from here on.
            recorder.StartMeasuring();
            wireBefore = (wire.Bytes, wire.Requests, wire.EmptyResponses);
            var cpuBefore = target.Process?.CpuSeconds();
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(options.Seconds))
            {
                await Task.Delay(250, cancellationToken);
                peakRss = Math.Max(peakRss, target.Process?.RssBytes() ?? 0);
                progress.Update(clock.Elapsed, options.Seconds, recorder.Delivered);
            }

            last = await target.SetRateAsync(control, 0, cancellationToken);
            var drainUntil = clock.Elapsed + Drain + TimeSpan.FromSeconds(options.PollIntervalSeconds);
            while (clients.Any(client => client.Progress.Last < last) && clock.Elapsed < drainUntil)
            {
                await Task.Delay(50, cancellationToken);
                peakRss = Math.Max(peakRss, target.Process?.RssBytes() ?? 0);
            }

            // The window closes: the same moment for every figure, before the clients disconnect.
            recorder.StopMeasuring();
            measured = clock.Elapsed.TotalSeconds;
            wireAfter = (wire.Bytes, wire.Requests, wire.EmptyResponses);
            cpu = target.Process is null ? null : target.Process.CpuSeconds() - cpuBefore;
        }
        finally
        {
            // Also when the run throws or is stopped; the group closes every client before the HTTP stack goes.
            failures = await group.StopAsync();
        }

        progress.Finish(recorder.Delivered, failures);

        foreach (var client in clients)
        {
            client.Progress.Finish(last, head + 1);
        }

        var delivered = recorder.Delivered;
        return new TransportRun(
            transport,
            target.IsBaseline,
            options.Clients,
            options.Rate,
            Math.Round(measured, 2),
            delivered,
            Math.Round(delivered / measured, 1),
            recorder.Summary(),
            clients.Sum(client => client.Progress.Lost),
            clients.Sum(client => client.Progress.Duplicated),
            wireAfter.Requests - wireBefore.Requests,
            wireAfter.Empty - wireBefore.Empty,
            delivered == 0 ? 0 : Math.Round((double)(wireAfter.Bytes - wireBefore.Bytes) / delivered, 1),
            cpu is null || delivered == 0 ? null : Math.Round(cpu.Value / delivered * 1000, 4),
            cpu is null or 0 ? null : Math.Round(delivered / cpu.Value, 0),
            target.Process is null ? null : peakRss,
            recorder.Histogram())
        {
            // What the connections carried: fewer clients than the setting share one connection between them.
            StreamsPerConnection = transport == "sse-h2" ? Math.Min(options.StreamsPerConnection, options.Clients) : null,
        };
    }
}

/// <summary>A live progress line per transport (a plain line every few seconds when output is not a terminal).</summary>
public sealed class ProgressLine(string transport, int clients)
{
    private string? _phase;
    private long _lastPrinted = -1;
    private long _lastDelivered;
    private TimeSpan _lastAt;

    public void Update(TimeSpan elapsed, int seconds, long delivered)
    {
        var rate = (delivered - _lastDelivered) / Math.Max(0.001, (elapsed - _lastAt).TotalSeconds);
        (_lastDelivered, _lastAt) = (delivered, elapsed);
        Show("measuring", elapsed, $"{transport,-20} {clients,6} clients  {elapsed.TotalSeconds,5:0.0}/{seconds} s  {delivered,12:N0} delivered  {rate,10:N0}/s");
    }

    public void WarmingUp(TimeSpan elapsed, int seconds) =>
        Show("warming up", elapsed, $"{transport,-20} {clients,6} clients  warming up {elapsed.TotalSeconds,4:0.0}/{seconds} s (not measured)");

    // A live line on a terminal; otherwise a plain line every five seconds of each phase.
    private void Show(string phase, TimeSpan elapsed, string line)
    {
        if (!Console.IsOutputRedirected)
        {
            Console.Write($"\r{line}   ");
        }
        else if (phase != _phase || (long)elapsed.TotalSeconds / 5 != _lastPrinted)
        {
            (_phase, _lastPrinted) = (phase, (long)elapsed.TotalSeconds / 5);
            Console.WriteLine(line);
        }
    }

    public void Finish(long delivered, int failures)
    {
        var ending = $"{transport,-20} {clients,6} clients  done: {delivered:N0} delivered{(failures > 0 ? $", {failures} clients failed" : "")}";
        Console.WriteLine(Console.IsOutputRedirected ? ending : $"\r{ending}{new string(' ', 30)}");
    }
}
