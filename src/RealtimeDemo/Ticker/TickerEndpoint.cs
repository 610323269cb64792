using Microsoft.Extensions.Options;
using RealtimeDemo.Http;

namespace RealtimeDemo.Ticker;

/// <summary>
/// <c>GET /api/ticker</c> tells the demo ticker's rate; <c>PUT /api/ticker</c> changes it, where the host allows
/// it (<see cref="TickerOptions.TickerAdjustable"/>, on in Development only: any visitor could flood the stream).
/// </summary>
internal static class TickerEndpoint
{
    public static IEndpointRouteBuilder MapTicker(this IEndpointRouteBuilder api)
    {
        api.MapGet("/ticker", (DemoTicker ticker, IOptions<TickerOptions> options) => State(ticker, options.Value));
        api.MapPut("/ticker", SetRate);
        return api;
    }

    private static IResult SetRate(TickerRate body, DemoTicker ticker, IOptions<TickerOptions> options)
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

    private static IResult State(DemoTicker ticker, TickerOptions options) =>
        TypedResults.Ok(new TickerState(ticker.EventsPerSecond, options.TickerAdjustable, SteadyRate.MaxEventsPerSecond));

    internal sealed record TickerRate(double? EventsPerSecond);

    private sealed record TickerState(double EventsPerSecond, bool Adjustable, double MaxEventsPerSecond);
}
