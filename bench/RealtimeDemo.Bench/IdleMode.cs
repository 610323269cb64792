using RealtimeDemo.Bench.Clients;

namespace RealtimeDemo.Bench;

/// <summary>
/// Idle mode: N connections held open with nothing published. What each costs the server in memory (RSS delta / N)
/// and on the wire (heartbeats, pings, re-polls: bytes per connection per minute). For sse-h2 a connection is an
/// HTTP/2 stream, many sharing each TCP connection: its figures are per stream.
/// </summary>
public static class IdleMode
{
    public static async Task<IdleRun> RunAsync(
        string transport, Target target, int connections, TimeSpan window, int streamsPerConnection, CancellationToken cancellationToken)
    {
        var process = target.Process ?? throw new InvalidOperationException("Idle mode measures the server's memory: let the bench start it (no --url).");
        using var rig = await ClientRig.PrepareAsync(target, transport, TimeSpan.FromSeconds(1), streamsPerConnection, cancellationToken);
        var (context, wire) = (rig.Context, rig.Context.Wire);
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken); // let the freshly started server settle
        var before = process.RssBytes();

        await using var group = new ClientGroup(Enumerable.Range(0, connections).Select(index => BenchClient.Create(transport, context, index)).ToList(), cancellationToken);
        var connected = 0;
        await group.ConnectAsync(parallelism: 128, connected: () =>
        {
            if (Interlocked.Increment(ref connected) % 1000 == 0)
            {
                Console.WriteLine($"{transport,-20} {connected,6:N0} idle connections open");
            }
        });

        group.StartReceiving();
        long after, heartbeatBytes;
        int failures;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
            after = process.RssBytes();
            var bytesBefore = wire.Bytes;
            await Task.Delay(window, cancellationToken);
            heartbeatBytes = wire.Bytes - bytesBefore;
        }
        finally
        {
            // Also when stopped; the group closes every connection before the HTTP stack goes.
            failures = await group.StopAsync();
        }

        if (failures > 0)
        {
            // Their traffic stopped early: the heartbeat figure is low by their share (results.json: endedEarly).
            Console.WriteLine($"{transport,-20} {failures:N0} of {connections:N0} idle connections ended before the window did");
        }

        // sse-h2's connections are streams, many to a TCP connection: its figures are per stream.
        var multiplexed = transport == "sse-h2" ? Math.Min(streamsPerConnection, connections) : (int?)null;
        Console.WriteLine($"{transport,-20} {connections,6:N0} idle: {(after - before) / 1024.0 / connections:0.0} KB each, {heartbeatBytes / (double)connections / window.TotalMinutes:0} B/min each"
            + (multiplexed is { } streams ? $" (streams, {streams} per connection)" : string.Empty));
        return new IdleRun(
            transport,
            target.IsBaseline,
            connections,
            before,
            after,
            Math.Round((after - before) / (double)connections, 0),
            Math.Round(heartbeatBytes / (double)connections / window.TotalMinutes, 1),
            failures)
        {
            StreamsPerConnection = multiplexed,
        };
    }
}
