using Microsoft.Extensions.Options;
using RealtimeDemo.Diagnostics;
using RealtimeDemo.Http;
using RealtimeDemo.Log;
using RealtimeDemo.Tokens;

namespace RealtimeDemo.Transports;

/// <summary>
/// Short polling, <c>GET /api/poll?after=…</c>: answers at once with whatever lies after the cursor,
/// often nothing. The client asks again on its own timer, so latency is bounded by that interval.
/// </summary>
internal static class ShortPollTransport
{
    public static IEndpointRouteBuilder MapShortPoll(this IEndpointRouteBuilder api)
    {
        api.MapGet("/poll", Poll).RequireReaderToken();
        return api;
    }

    private static IResult Poll(string? after, IEventLog log, IOptions<TransportOptions> options, TransportStats stats, TimeProvider time)
    {
        stats.CountRequest(Transport.ShortPoll);
        if (!CursorQuery.TryResolve(after, "after", log, out var cursor, out var problem))
        {
            return problem;
        }

        using var reader = new CursorReader(log, cursor, options.Value.ReadBatchSize, time);
        var (events, gap) = reader.Read();
        stats.CountDelivered(Transport.ShortPoll, events.Length);
        if (events.IsEmpty)
        {
            stats.CountEmptyResponse(Transport.ShortPoll);
        }

        return new PollResult(events, reader.Cursor, gap != GapReason.None);
    }
}
