using System.Threading.Channels;

namespace RealtimeDemo.Bench.Baselines.Broadcast;

/// <summary>
/// One raw client's outbox: a bounded queue of shared, pre-encoded frames, drained by that client's own
/// write loop. A client too slow to keep up is cut off rather than silently skipped: dropping the oldest
/// frames would leave holes in its seq that the benchmark could not tell from lost delivery.
/// </summary>
public sealed class ClientQueue
{
    /// <summary>Frames a client may fall behind by (about 100 s at 100 events/s) before it is cut off.</summary>
    public const int Capacity = 10_000;

    private readonly Channel<byte[]> _channel = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(Capacity)
    {
        // Wait (not DropOldest): a full queue makes TryWrite fail, which we turn into closing the client.
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
    });

    // Not disposed on purpose: the publisher may still hold this queue in a snapshot after the client left,
    // and cancelling a disposed source would throw on the publisher. It has no timer, so the GC reclaims it.
    private readonly CancellationTokenSource _overflow = new();

    public ChannelReader<byte[]> Reader => _channel.Reader;

    /// <summary>Cancelled when the queue overflowed: the connection's owner closes the connection.</summary>
    public CancellationToken Overflowed => _overflow.Token;

    /// <summary>
    /// Queues a frame without waiting. False when the queue is full (the first time, the queue is completed
    /// and <see cref="Overflowed"/> fires) or already completed.
    /// </summary>
    public bool TryEnqueue(byte[] frame, out bool overflowed)
    {
        overflowed = false;
        if (_channel.Writer.TryWrite(frame))
        {
            return true;
        }

        // TryComplete succeeds once: a full queue is reported and closed once; a completed one is just skipped.
        if (_channel.Writer.TryComplete())
        {
            overflowed = true;

            // Asynchronously: the callbacks abort a connection, which is not the publisher's work.
            _ = _overflow.CancelAsync();
        }

        return false;
    }

    /// <summary>The client has gone: nothing more is queued.</summary>
    public void Complete() => _channel.Writer.TryComplete();
}
