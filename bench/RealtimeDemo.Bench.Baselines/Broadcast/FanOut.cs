namespace RealtimeDemo.Bench.Baselines.Broadcast;

/// <summary>
/// The set of one raw baseline's clients and the fan-out to them. The set is copy-on-write: connects and
/// disconnects copy an array (rare), publishing walks a snapshot with no lock and no allocation (100 times a
/// second over every client).
/// </summary>
public sealed partial class FanOut(string name, ILogger logger)
{
    private readonly Lock _lock = new();
    private ClientQueue[] _clients = [];

    public ClientQueue Subscribe()
    {
        var client = new ClientQueue();
        lock (_lock)
        {
            Volatile.Write(ref _clients, [.. _clients, client]);
        }

        return client;
    }

    public void Unsubscribe(ClientQueue client)
    {
        client.Complete();
        lock (_lock)
        {
            var index = Array.IndexOf(_clients, client);
            if (index >= 0)
            {
                Volatile.Write(ref _clients, [.. _clients.AsSpan(0, index), .. _clients.AsSpan(index + 1)]);
            }
        }
    }

    /// <summary>Queues the same frame for every client; never waits.</summary>
    public void Publish(byte[] frame)
    {
        foreach (var client in Volatile.Read(ref _clients))
        {
            if (!client.TryEnqueue(frame, out var overflowed) && overflowed)
            {
                LogDropped(logger, name, ClientQueue.Capacity);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A {Baseline} client fell {Capacity} events behind and was disconnected")]
    private static partial void LogDropped(ILogger logger, string baseline, int capacity);
}
