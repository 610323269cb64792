using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.Extensions.Options;
using RealtimeDemo.Diagnostics;
using RealtimeDemo.Http;
using RealtimeDemo.Limits;
using RealtimeDemo.Log;
using RealtimeDemo.Tokens;

namespace RealtimeDemo.Transports;

/// <summary>
/// Long polling, <c>GET /api/longpoll?after=…&amp;timeout=…</c>: the request is held until an event exists after
/// the cursor or the timeout passes (then an empty list). One request per delivery at most; no idle traffic.
/// </summary>
internal static class LongPollTransport
{
    private static readonly SearchValues<char> Numeral = SearchValues.Create("0123456789.");

    public static IEndpointRouteBuilder MapLongPoll(this IEndpointRouteBuilder api)
    {
        api.MapGet("/longpoll", PollAsync).RequireConnectionCap(Transport.LongPoll).RequireReaderToken();
        return api;
    }

    private static async Task<IResult> PollAsync(
        string? after,
        string? timeout,
        HttpContext context,
        IEventLog log,
        IOptions<TransportOptions> options,
        TransportStats stats,
        TimeProvider time,
        IHostApplicationLifetime lifetime)
    {
        stats.CountRequest(Transport.LongPoll);
        if (!CursorQuery.TryResolve(after, "after", log, out var cursor, out var problem))
        {
            return problem;
        }

        if (!TryResolveTimeout(timeout, options.Value, out var wait, out problem))
        {
            return problem;
        }

        using var connection = stats.Open(Transport.LongPoll);
        using var reader = new CursorReader(log, cursor, options.Value.ReadBatchSize, time);
        var (events, gap) = reader.Read();
        var expired = false;
        if (events.IsEmpty && gap == GapReason.None)
        {
            // A shutting-down host answers at once (empty), so clients move to the next host without waiting out the
            // timeout; a reader token's expiry ends the hold as well: nothing is delivered past it.
            using var expiry = ConnectionExpiry.Start(ReaderToken.ExpiresAt(context), time);
            using var heldUntil = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping, expiry.Passed);
            try
            {
                if (await reader.WaitAsync(wait, heldUntil.Token))
                {
                    expired = expiry.HasPassed;
                    (events, gap) = expired ? (ReadOnlyMemory<StoredEvent>.Empty, GapReason.None) : reader.Read();
                }
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                connection.End(EndReason.ClientClosed);
                return TypedResults.Empty;
            }
            catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
            {
                // Answered below, empty.
            }
            catch (OperationCanceledException) when (expiry.HasPassed)
            {
                expired = true;
            }
        }

        connection.CountDelivered(events.Length);
        if (events.IsEmpty)
        {
            stats.CountEmptyResponse(Transport.LongPoll);
            connection.End(lifetime.ApplicationStopping.IsCancellationRequested ? EndReason.ServerShutdown
                : expired ? EndReason.TokenExpired
                : EndReason.Timeout);
        }
        else
        {
            connection.End(EndReason.Delivered);
        }

        return new PollResult(events, reader.Cursor, gap != GapReason.None);
    }

    /// <summary>
    /// <c>timeout</c> is in seconds, fractions allowed; absent means the configured default; above the cap it is
    /// cut to the cap (a client cannot hold a request longer than the server allows); anything else is a <c>400</c>.
    /// </summary>
    private static bool TryResolveTimeout(string? text, TransportOptions options, out TimeSpan timeout, [NotNullWhen(false)] out IResult? problem)
    {
        problem = null;
        timeout = options.LongPollTimeout;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        // Digits and a point only, so "Infinity" and "NaN" are refused; a numeral too long for a double parses as
        // infinity, which is merely above the cap.
        if (text.AsSpan().ContainsAnyExcept(Numeral)
            || !double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds))
        {
            problem = Problems.Invalid("timeout", $"must be a number of seconds from 0 to {options.LongPollMaxTimeout.TotalSeconds:0.###}");
            return false;
        }

        timeout = seconds >= options.LongPollMaxTimeout.TotalSeconds ? options.LongPollMaxTimeout : TimeSpan.FromSeconds(seconds);
        return true;
    }
}
