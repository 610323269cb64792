using Microsoft.Extensions.Options;
using RealtimeDemo.Events;

namespace RealtimeDemo.Api;

/// <summary>
/// <c>GET /api/ticker</c> tells the demo ticker's rate; <c>PUT /api/ticker</c> changes it, where the host allows
/// it (<see cref="RealtimeOptions.TickerAdjustable"/>, on in Development only: any visitor could flood the stream).
/// </summary>
internal static class TickerEndpoint
{
    public static IEndpointRouteBuilder MapTicker(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/ticker", (DemoTicker ticker, IOptions<RealtimeOptions> options) => State(ticker, options.Value));
        app.MapPut("/api/ticker", SetRate);
        return app;
    }

    private static IResult SetRate(TickerRate body, DemoTicker ticker, IOptions<RealtimeOptions> options)
    {
        if (!options.Value.TickerAdjustable)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "The ticker's rate is fixed on this host",
                detail: "Set Realtime:TickerAdjustable to true to let clients change it.");
        }

        if (body.EventsPerSecond is not { } rate || !SteadyRate.IsValid(rate))
        {
            return Problems.Invalid("eventsPerSecond", $"must be 0 (off) or a number from {SteadyRate.MinEventsPerSecond} to {SteadyRate.MaxEventsPerSecond}");
        }

        ticker.EventsPerSecond = rate;
        return State(ticker, options.Value);
    }

    private static IResult State(DemoTicker ticker, RealtimeOptions options) =>
        TypedResults.Ok(new TickerState(ticker.EventsPerSecond, options.TickerAdjustable, SteadyRate.MaxEventsPerSecond));

    internal sealed record TickerRate(double? EventsPerSecond);

    private sealed record TickerState(double EventsPerSecond, bool Adjustable, double MaxEventsPerSecond);
}
