using System.Buffers;
using Microsoft.AspNetCore.Http.Features;
using RealtimeDemo.Bench.Baselines.Broadcast;
using RealtimeDemo.Bench.Baselines.Events;

namespace RealtimeDemo.Bench.Baselines;

/// <summary>
/// <c>/raw/sse</c>: the least a Server-Sent Events broadcast can be while still sound. Every event's
/// pre-encoded frame (<c>id: …</c>, <c>data: …</c>, blank line) is written to every response and flushed;
/// no retry hint, no heartbeat, no resume. Per connection: a bounded queue and a write loop draining it.
/// </summary>
public sealed class RawSseBroadcast(IHostApplicationLifetime lifetime, ILogger<RawSseBroadcast> logger) : IEventSink
{
    private FanOut Clients { get; } = new("raw-sse", logger);

    public void Publish(EncodedEvent ev) => Clients.Publish(ev.SseFrame);

    public async Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        context.Features.GetRequiredFeature<IHttpResponseBodyFeature>().DisableBuffering();

        var queue = Clients.Subscribe();

        // A client that fell a whole queue behind is cut off: abort its connection.
        using var overflow = queue.Overflowed.Register(static state => ((HttpContext)state!).Abort(), context);

        // The stream ends when the client leaves or the host stops (else shutdown would wait for every stream).
        using var end = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        try
        {
            // Headers now, so a client knows it is subscribed before the first event.
            await response.StartAsync(end.Token);
            await response.BodyWriter.FlushAsync(end.Token);

            var reader = queue.Reader;
            var writer = response.BodyWriter;
            while (await reader.WaitToReadAsync(end.Token))
            {
                // Every frame waiting is written, then one flush sends them: with one event at a time (the usual
                // case) that is a flush per event; a client that fell behind catches up in fewer writes.
                while (reader.TryRead(out var frame))
                {
                    writer.Write(frame);
                }

                var flushed = await writer.FlushAsync(end.Token);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client left or the host is stopping: the response just ends.
        }
        finally
        {
            Clients.Unsubscribe(queue);
        }
    }
}
