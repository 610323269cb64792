using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using RealtimeDemo.Bench.Baselines.Events;

namespace RealtimeDemo.Bench.Baselines;

/// <summary>
/// Feeds the SignalR baseline: each event is broadcast with <c>Clients.All.SendAsync("event", ev)</c>, as an
/// application would, and SignalR serialises it once per protocol for all connections.
/// </summary>
/// <remarks>
/// <c>SendAsync</c> completes only when every connection has taken the message, so it runs in this service's
/// own loop, one event after another (keeping the order), behind a queue: the publisher never waits for SignalR,
/// and the raw baselines are never slowed by it.
/// </remarks>
public sealed partial class HubBroadcast(IHubContext<EventsHub> hub, ILogger<HubBroadcast> logger) : BackgroundService, IEventSink
{
    /// <summary>Events the broadcast may fall behind by (about 100 s at 100 events/s).</summary>
    public const int Capacity = 10_000;

    private readonly Channel<BaselineEvent> _pending = Channel.CreateBounded<BaselineEvent>(new BoundedChannelOptions(Capacity)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
        SingleWriter = true,
    });

    public void Publish(EncodedEvent ev)
    {
        // SignalR cannot cut off one slow connection from here; a full queue means the whole hub is behind.
        // Such an event is logged, never silently lost, and the benchmark sees the missing seq.
        if (!_pending.Writer.TryWrite(ev.Value))
        {
            LogDropped(logger, ev.Value.Seq);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var ev in _pending.Reader.ReadAllAsync(stoppingToken))
            {
                await hub.Clients.All.SendAsync("event", ev, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The SignalR broadcast is a full queue behind; event {Seq} was not sent")]
    private static partial void LogDropped(ILogger logger, long seq);
}
