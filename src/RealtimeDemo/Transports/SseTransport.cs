using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Options;
using RealtimeDemo.Diagnostics;
using RealtimeDemo.Http;
using RealtimeDemo.Limits;
using RealtimeDemo.Log;
using RealtimeDemo.Tokens;

namespace RealtimeDemo.Transports;

/// <summary>
/// Server-Sent Events, <c>GET /api/sse?after=…</c>: one long response of <c>text/event-stream</c> frames.
/// The browser's EventSource reconnects by itself and sends <c>Last-Event-ID</c>, which resumes the stream.
/// </summary>
/// <remarks>
/// Frames are written from bytes the log encoded once per event (<see cref="StoredEvent.SseFrame"/>) rather than
/// through <c>TypedResults.ServerSentEvents</c>, which formats every item again for every subscriber.
/// </remarks>
internal static class SseTransport
{
    public static IEndpointRouteBuilder MapSse(this IEndpointRouteBuilder api)
    {
        api.MapGet("/sse", StreamAsync).RequireConnectionCap(Transport.Sse).RequireReaderToken(fromQuery: true);
        return api;
    }

    private static async Task StreamAsync(
        string? after,
        HttpContext context,
        IEventLog log,
        IOptions<TransportOptions> options,
        TransportStats stats,
        TimeProvider time,
        SlowReaderWatchdog watchdog,
        IHostApplicationLifetime lifetime)
    {
        stats.CountRequest(Transport.Sse);

        // After a drop the browser sends where it actually stands; that wins over the URL it was first opened with.
        var lastEventId = context.Request.Headers["Last-Event-ID"].ToString();
        var (text, field) = lastEventId.Length > 0 ? (lastEventId, "Last-Event-ID") : (after, "after");
        if (!CursorQuery.TryResolve(text, field, log, out var cursor, out var problem))
        {
            await problem.ExecuteAsync(context);
            return;
        }

        var settings = options.Value;
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // nginx: pass each frame through instead of buffering the response
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        // One rule for a reader that stops reading, the same on both streams: a write blocked past
        // Realtime:SendTimeout drops it (the watchdog), logged and counted. Kestrel's minimum response data rate
        // would also cut a stalled SSE reader, but by a rate rather than a time, silently, and not WebSockets at all:
        // it is off for this response, so the one configurable rule applies. (Over HTTP/2 Kestrel offers no per-request
        // rate; there its server-wide minimum applies to streams as well.)
        if (context.Features.Get<IHttpMinResponseDataRateFeature>() is { } minimumRate)
        {
            minimumRate.MinDataRate = null;
        }

        using var connection = stats.Open(Transport.Sse);
        using var watch = watchdog.Start(Transport.Sse, connection, context);
        using var streamEnd = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        using var expiry = ConnectionExpiry.Start(ReaderToken.ExpiresAt(context), time);

        // The token's expiry ends the wait for events, not a write in flight: only a stream with one needs its own token.
        using var waitEnd = expiry.Passed.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(streamEnd.Token, expiry.Passed) : null;
        using var reader = new CursorReader(log, cursor, settings.ReadBatchSize, time, longLived: true);
        var writer = response.BodyWriter;
        var cancellationToken = streamEnd.Token;
        var waitToken = waitEnd?.Token ?? cancellationToken;
        try
        {
            writer.Write(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"retry: {(long)settings.SseRetry.TotalMilliseconds}\n\n")));

            // Named control events carry no id: an EventSource's Last-Event-ID stays the last event's (or gap's) cursor.
            WriteControl(writer, "welcome"u8, ControlMessages.Welcome(cursor, log.Epoch, time.GetUtcNow(), settings.HeartbeatInterval));
            await FlushAsync(writer, watch, cancellationToken);

            // The stream's whole life is this one loop, in this one method: an idle stream holds one state machine.
            while (true)
            {
                var (events, gap) = reader.Read();

                // Checked before every batch is written: nothing is delivered past the token's expiry. What was read
                // is not sent; the client resumes from the last id it received.
                if (expiry.HasPassed)
                {
                    await ExpireAsync(writer, expiry, connection, watch, cancellationToken);
                    return;
                }

                if (gap is not GapReason.None)
                {
                    // The gap carries an id too, so a browser that reconnects before the next event resumes after the gap.
                    var resumedFrom = reader.ResumedFrom(events);
                    writer.Write(Encoding.UTF8.GetBytes($"id: {resumedFrom}\nevent: gap\ndata: "));
                    writer.Write(ControlMessages.Gap(gap, resumedFrom));
                    writer.Write("\n\n"u8);
                }

                // One flush per batch: a reader that fell behind catches up in few large writes.
                foreach (var stored in events.Span)
                {
                    writer.Write(stored.SseFrame.Span);
                }

                if (events.Length > 0 || gap is not GapReason.None)
                {
                    connection.CountDelivered(events.Length);
                    if (await FlushAsync(writer, watch, cancellationToken))
                    {
                        connection.End(EndReason.ClientClosed);
                        return;
                    }

                    continue;
                }

                // The heartbeat is the wait's timeout: the reader's waiter keeps one timer for the stream's whole life.
                // A token's expiry ends the wait too (it throws), and the next turn of the loop ends the stream.
                if (!await reader.WaitAsync(settings.HeartbeatInterval, waitToken) && !expiry.HasPassed)
                {
                    // After a silent interval, a named event: it keeps proxies and load balancers from cutting the
                    // stream, tells the client the stream is alive, and shows it the head to compare its cursor with.
                    WriteControl(writer, "heartbeat"u8, ControlMessages.Heartbeat(log.Head));
                    if (await FlushAsync(writer, watch, cancellationToken))
                    {
                        connection.End(EndReason.ClientClosed);
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (streamEnd.IsCancellationRequested)
        {
            connection.End(context.RequestAborted.IsCancellationRequested ? EndReason.ClientClosed : EndReason.ServerShutdown);
        }
        catch (OperationCanceledException) when (expiry.HasPassed)
        {
            await ExpireAsync(writer, expiry, connection, watch, cancellationToken);
        }
    }

    /// <summary>
    /// Ends a stream whose reader token expired with a named event saying so (without an id, like every control
    /// event). The client signs in again and resumes from its last id.
    /// </summary>
    private static async Task ExpireAsync(
        PipeWriter writer, ConnectionExpiry expiry, TransportStats.OpenConnection connection, SlowReaderWatchdog.Watch watch, CancellationToken cancellationToken)
    {
        connection.End(EndReason.TokenExpired);
        WriteControl(writer, "expired"u8, ControlMessages.Expired(expiry.ExpiresAt!.Value));
        try
        {
            await FlushAsync(writer, watch, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client left or the host is stopping at the same moment: the stream ends either way.
        }
    }

    /// <summary>Writes a control message as an event named <paramref name="name"/>, without an id.</summary>
    private static void WriteControl(PipeWriter writer, ReadOnlySpan<byte> name, byte[] json)
    {
        writer.Write("event: "u8);
        writer.Write(name);
        writer.Write("\ndata: "u8);
        writer.Write(json);
        writer.Write("\n\n"u8);
    }

    /// <summary>Flushes under the watchdog's eye; true when the client has gone.</summary>
    private static async ValueTask<bool> FlushAsync(PipeWriter writer, SlowReaderWatchdog.Watch watch, CancellationToken cancellationToken)
    {
        watch.Writing();
        try
        {
            return (await writer.FlushAsync(cancellationToken)).IsCompleted;
        }
        finally
        {
            watch.Written();
        }
    }
}
